#!/usr/bin/env escript
%% test/e2e/load_client.escript: a TCP load for the restart tests, run inside the container.
%%
%%   load_client.escript HOST PORT RATE STOPFILE MAXSECONDS
%%
%% Opens RATE new connections a second to HOST:PORT, each sending one `ping' line and waiting
%% for `pong', until STOPFILE exists (or MAXSECONDS have passed: the loop is bounded), then waits
%% for the connections in flight and prints one line:
%%
%%   sent N ok N refused N failed N p50_ms X p99_ms X max_ms X
%%
%% refused: the connection was refused (nothing listened); failed: any other error (a reset, a
%% timeout, a wrong answer). The latency is from the connect to the answer, for the ones ok.
-mode(compile).

-define(CONNECT_TIMEOUT, 10000).
-define(ANSWER_TIMEOUT, 15000).

main([Host, Port, Rate, StopFile, MaxSeconds]) ->
    {ok, Address} = inet:parse_address(Host),
    Interval = 1000 / list_to_integer(Rate),
    Deadline = now_ms() + list_to_integer(MaxSeconds) * 1000,
    Self = self(),
    Target = {Address, list_to_integer(Port)},
    Sent = loop(Target, Self, now_ms(), Interval, 0, StopFile, Deadline),
    Results = [receive {result, R} -> R end || _ <- lists:seq(1, Sent)],
    print(Sent, Results);
main(_) ->
    io:format(standard_error, "usage: load_client.escript HOST PORT RATE STOPFILE MAXSECONDS~n", []),
    halt(2).

%% The k-th connection is due at Start + k * Interval, whatever the ones before took.
loop(Target, Parent, Start, Interval, K, StopFile, Deadline) ->
    Now = now_ms(),
    case Now >= Deadline orelse filelib:is_file(StopFile) of
        true ->
            K;
        false ->
            Due = Start + round(K * Interval),
            Due > Now andalso timer:sleep(Due - Now),
            spawn(fun() -> Parent ! {result, request(Target)} end),
            loop(Target, Parent, Start, Interval, K + 1, StopFile, Deadline)
    end.

request({Address, Port}) ->
    T0 = now_ms(),
    Options = [binary, {packet, line}, {active, false}],
    case gen_tcp:connect(Address, Port, Options, ?CONNECT_TIMEOUT) of
        {ok, S} ->
            ok = gen_tcp:send(S, <<"ping\n">>),
            Answer = gen_tcp:recv(S, 0, ?ANSWER_TIMEOUT),
            gen_tcp:close(S),
            case Answer of
                {ok, <<"pong\n">>} -> {ok, now_ms() - T0};
                Other -> {failed, Other}
            end;
        {error, econnrefused} ->
            refused;
        {error, Reason} ->
            {failed, Reason}
    end.

print(Sent, Results) ->
    Latencies = lists:sort([L || {ok, L} <- Results]),
    Failures = [R || {failed, R} <- Results],
    io:format("sent ~b ok ~b refused ~b failed ~b p50_ms ~b p99_ms ~b max_ms ~b~n",
              [Sent, length(Latencies), length([R || R <- Results, R =:= refused]),
               length(Failures), percentile(Latencies, 0.50), percentile(Latencies, 0.99),
               percentile(Latencies, 1.0)]),
    [io:format(standard_error, "failure: ~p~n", [F]) || F <- lists:sublist(lists:usort(Failures), 5)],
    ok.

percentile([], _) -> 0;
percentile(Sorted, P) -> lists:nth(max(1, ceil(P * length(Sorted))), Sorted).

now_ms() ->
    erlang:monotonic_time(millisecond).
