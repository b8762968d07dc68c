%% @private
%% @doc A small log-linear histogram of non-negative integers (microseconds of lateness).
%%
%% Values below 32 have a bucket each; above, every power of two is cut into 16 buckets, so a
%% percentile is within about 6% of the true value and the memory stays bounded whatever runs
%% through it. Percentiles report the upper edge of their bucket, capped by the exact maximum.
-module(vigil_histogram).

-export([new/0, add/2, count/1, max/1, percentile/2]).

-define(EXACT, 32).
-define(SUB_BITS, 4).
-define(SUB, 16).

-record(histogram, {
    buckets = #{} :: #{non_neg_integer() => pos_integer()},
    count = 0 :: non_neg_integer(),
    max = 0 :: non_neg_integer()
}).

-opaque histogram() :: #histogram{}.
-export_type([histogram/0]).

-spec new() -> histogram().
new() ->
    #histogram{}.

-spec add(non_neg_integer(), histogram()) -> histogram().
add(Value, #histogram{buckets = Buckets, count = Count, max = Max} = H) when Value >= 0 ->
    Index = index(Value),
    H#histogram{buckets = maps:update_with(Index, fun(N) -> N + 1 end, 1, Buckets),
                count = Count + 1, max = erlang:max(Max, Value)}.

-spec count(histogram()) -> non_neg_integer().
count(#histogram{count = Count}) -> Count.

-spec max(histogram()) -> non_neg_integer().
max(#histogram{max = Max}) -> Max.

%% The smallest bucket edge at or below which `Percent' per cent of the values lie; 0 when empty.
-spec percentile(number(), histogram()) -> non_neg_integer().
percentile(_Percent, #histogram{count = 0}) ->
    0;
percentile(Percent, #histogram{buckets = Buckets, count = Count, max = Max}) ->
    Rank = erlang:max(1, ceil(Percent * Count / 100)),
    walk(lists:sort(maps:to_list(Buckets)), Rank, Max).

walk([{Index, N} | Rest], Rank, Max) when Rank > N ->
    case Rest of
        [] -> erlang:min(upper(Index), Max);
        _ -> walk(Rest, Rank - N, Max)
    end;
walk([{Index, _} | _], _Rank, Max) ->
    erlang:min(upper(Index), Max).

index(Value) when Value < ?EXACT ->
    Value;
index(Value) ->
    Bits = bit_length(Value) - 1,
    Shift = Bits - ?SUB_BITS,
    Sub = (Value bsr Shift) band (?SUB - 1),
    ?EXACT + (Bits - 5) * ?SUB + Sub.

upper(Index) when Index < ?EXACT ->
    Index;
upper(Index) ->
    Bits = (Index - ?EXACT) div ?SUB + 5,
    Sub = (Index - ?EXACT) rem ?SUB,
    Shift = Bits - ?SUB_BITS,
    ((?SUB + Sub + 1) bsl Shift) - 1.

bit_length(Value) ->
    bit_length(Value, 0).

bit_length(0, Bits) -> Bits;
bit_length(Value, Bits) -> bit_length(Value bsr 1, Bits + 1).
