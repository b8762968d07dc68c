%% @private
%% @doc The delivery policy, whole: which message waits for the manager and how, whatever
%% function sent it. The policy is stated once, for users, in vigil's edoc ("Delivery"); the
%% classification is class/1 below. This module is its only implementation, and every module
%% of the application sends through it.
%%
%% Words: to send is one attempt through the NIF; to deliver is to apply the policy to a
%% message (send it, then keep it as its class says); to queue is to hand a message the full
%% queue refused to this module's process, which sends it when the manager's queue has room.
%%
%% How: a caller sends a message itself; a state change the full queue refused is queued here,
%% in order, and retried with a short backoff until sent or until `send_deadline' passes. The
%% NIF holds the newest refused latest-wins message (a newer one that is sent or refused
%% replaces it under the NIF's lock), and this process retries it after the queued changes.
-module(vigil_delivery).
-behaviour(gen_server).

-export([deliver/1, status/1, ping/0, class/1]).
-export([start_link/0, queue/1, queue_latest/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-define(MAX_BACKOFF, 20).

-type class() :: change | latest | once.
-type result() :: ok | {error, timeout | inet:posix() | {invalid, term()}}.
-export_type([class/0, result/0]).

-record(state, {
    changes = queue:new() :: queue:queue({gen_server:from(), vigil_nif:pairs(),
                                          integer() | infinity}),
    latest_deadline :: undefined | integer() | infinity,
    timer :: undefined | reference(),
    backoff = 1 :: pos_integer()
}).

%% ---- the policy, run in the caller ----

%% @doc Deliver a message by its class.
-spec deliver(vigil_nif:pairs()) -> result().
deliver(Pairs) ->
    case class(Pairs) of
        change -> change(Pairs);
        latest -> latest(vigil_nif:send_latest(Pairs));
        once -> vigil_nif:send(Pairs)
    end.

%% @doc STATUS=Text (text rewritten to be shown as given), latest-wins.
-spec status(iodata()) -> result().
status(Text) ->
    latest(vigil_nif:status(Text)).

%% @doc WATCHDOG=1, sent once.
-spec ping() -> result().
ping() ->
    vigil_nif:send([{<<"WATCHDOG">>, <<"1">>}]).

%% @doc The class of a message: `change' if any assignment is a state change, else `latest' if
%% it is STATUS alone, else `once'. State changes: READY, RELOADING, STOPPING, ERRNO, BUSERROR,
%% EXIT_STATUS, MAINPID, EXTEND_TIMEOUT_USEC, WATCHDOG_USEC, NOTIFYACCESS and WATCHDOG=trigger.
-spec class([{atom() | iodata(), vigil_nif:value()}]) -> class().
class(Pairs) ->
    Kinds = [kind(key(Key), Value) || {Key, Value} <- Pairs],
    case lists:member(change, Kinds) of
        true -> change;
        false when Kinds =/= [] -> case lists:all(fun(K) -> K =:= latest end, Kinds) of
                                       true -> latest;
                                       false -> once
                                   end;
        false -> once
    end.

kind(<<"READY">>, _) -> change;
kind(<<"RELOADING">>, _) -> change;
kind(<<"STOPPING">>, _) -> change;
kind(<<"ERRNO">>, _) -> change;
kind(<<"BUSERROR">>, _) -> change;
kind(<<"EXIT_STATUS">>, _) -> change;
kind(<<"MAINPID">>, _) -> change;
kind(<<"EXTEND_TIMEOUT_USEC">>, _) -> change;
kind(<<"WATCHDOG_USEC">>, _) -> change;
kind(<<"NOTIFYACCESS">>, _) -> change;
kind(<<"WATCHDOG">>, <<"trigger">>) -> change;
kind(<<"STATUS">>, _) -> latest;
kind(_, _) -> once.

key(Key) when is_atom(Key) -> atom_to_binary(Key, latin1);
key(Key) -> iolist_to_binary(Key).

change(Pairs) ->
    case vigil_nif:send(Pairs) of
        {error, eagain} -> queue(Pairs);
        Result -> Result
    end.

%% A latest-wins message the full queue refused waits in the NIF; this process sends it.
latest({error, eagain}) -> queue_latest();
latest(Result) -> Result.

%% ---- the process ----

-spec start_link() -> {ok, pid()} | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% @doc Queue a refused change and wait for the outcome.
-spec queue(vigil_nif:pairs()) -> result().
queue(Pairs) ->
    try
        gen_server:call(?MODULE, {queue, Pairs}, infinity)
    catch
        exit:{noproc, _} -> {error, eagain}
    end.

%% @doc The NIF holds a refused latest-wins message: retry it.
-spec queue_latest() -> ok.
queue_latest() ->
    gen_server:cast(?MODULE, queue_latest).

-spec init([]) -> {ok, #state{}}.
init([]) ->
    {ok, #state{}}.

-spec handle_call({queue, vigil_nif:pairs()}, gen_server:from(), #state{}) ->
    {noreply, #state{}}.
handle_call({queue, Pairs}, From, #state{changes = Changes} = State) ->
    Entry = {From, Pairs, deadline()},
    {noreply, flush(State#state{changes = queue:in(Entry, Changes)})}.

-spec handle_cast(queue_latest, #state{}) -> {noreply, #state{}}.
handle_cast(queue_latest, #state{latest_deadline = undefined} = State) ->
    {noreply, flush(State#state{latest_deadline = deadline()})};
handle_cast(queue_latest, State) ->
    {noreply, flush(State)}.

-spec handle_info(retry, #state{}) -> {noreply, #state{}}.
handle_info(retry, State) ->
    {noreply, flush(State#state{timer = undefined})};
handle_info(_Other, State) ->
    {noreply, State}.

deadline() ->
    case vigil_config:get(send_deadline) of
        infinity -> infinity;
        Ms -> erlang:monotonic_time(millisecond) + Ms
    end.

expired(infinity) ->
    false;
expired(Deadline) ->
    erlang:monotonic_time(millisecond) >= Deadline.

flush(#state{timer = Timer} = State) when Timer =/= undefined ->
    State;
flush(#state{changes = Changes} = State) ->
    case queue:out(Changes) of
        {{value, {From, Pairs, Deadline}}, Rest} ->
            case vigil_nif:send(Pairs) of
                {error, eagain} ->
                    retry_or_give_up(From, Deadline, State);
                Result ->
                    gen_server:reply(From, Result),
                    flush(State#state{changes = Rest, backoff = 1})
            end;
        {empty, _} ->
            flush_latest(State)
    end.

retry_or_give_up(From, Deadline, #state{changes = Changes} = State) ->
    case expired(Deadline) of
        true ->
            gen_server:reply(From, {error, timeout}),
            flush(State#state{changes = queue:drop(Changes)});
        false ->
            schedule_retry(State)
    end.

flush_latest(#state{latest_deadline = undefined} = State) ->
    State;
flush_latest(#state{latest_deadline = Deadline} = State) ->
    case vigil_nif:flush_latest() of
        {error, eagain} ->
            case expired(Deadline) of
                true -> give_up_latest(State);
                false -> schedule_retry(State)
            end;
        _Sent ->
            State#state{latest_deadline = undefined, backoff = 1}
    end.

give_up_latest(State) ->
    ok = vigil_nif:drop_latest(),
    State#state{latest_deadline = undefined}.

schedule_retry(#state{backoff = Backoff} = State) ->
    Timer = erlang:send_after(Backoff, self(), retry),
    State#state{timer = Timer, backoff = min(Backoff * 2, ?MAX_BACKOFF)}.
