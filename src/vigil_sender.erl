%% @private
%% @doc Delivers what the manager's full queue refused, without blocking a scheduler.
%%
%% Policy when the queue is full (the manager is slow to read; the kernel holds only
%% net.unix.max_dgram_qlen datagrams):
%% <ul>
%% <li>State changes (READY, RELOADING, STOPPING, ERRNO, EXIT_STATUS, MAINPID, EXTEND_TIMEOUT_USEC,
%%     WATCHDOG=trigger) are queued here in the order they came and retried with a short backoff
%%     until delivered or until the `send_deadline' (milliseconds, vigil_config) passes. The caller waits for the outcome, so one process's state changes arrive in the
%%     order it made them.</li>
%% <li>STATUS is latest-wins: the NIF keeps the newest refused status (a newer one that is sent
%%     or refused in turn replaces it, under the same lock), this process retries it until the
%%     deadline, and the caller does not wait. State changes go first.</li>
%% <li>Anything else (WATCHDOG=1 pings, custom keys alone) is not retried: the caller gets
%%     `{error, eagain}'.</li>
%% </ul>
-module(vigil_sender).
-behaviour(gen_server).

-export([start_link/0, send/1, deliver/1, latest_pending/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-define(MAX_BACKOFF, 20).

-record(state, {
    changes = queue:new() :: queue:queue({gen_server:from(), vigil_nif:pairs(),
                                          integer() | infinity}),
    latest_deadline :: undefined | integer() | infinity,
    timer :: undefined | reference(),
    backoff = 1 :: pos_integer()
}).

-spec start_link() -> {ok, pid()} | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% @doc Send a state change now, or retry it here if the manager's queue refuses it.
-spec send(vigil_nif:pairs()) -> ok | {error, timeout | inet:posix() | {invalid, term()}}.
send(Pairs) ->
    case vigil_nif:send(Pairs) of
        {error, eagain} -> deliver(Pairs);
        Result -> Result
    end.

%% @doc Retry a refused state change until delivered or the deadline passes.
-spec deliver(vigil_nif:pairs()) -> ok | {error, timeout | inet:posix() | {invalid, term()}}.
deliver(Pairs) ->
    try
        gen_server:call(?MODULE, {deliver, Pairs}, infinity)
    catch
        exit:{noproc, _} -> {error, eagain}
    end.

%% @doc The NIF holds a latest-wins message the full queue refused: retry it.
-spec latest_pending() -> ok.
latest_pending() ->
    gen_server:cast(?MODULE, latest_pending).

%% ---- gen_server ----

-spec init([]) -> {ok, #state{}}.
init([]) ->
    {ok, #state{}}.

-spec handle_call({deliver, vigil_nif:pairs()}, gen_server:from(), #state{}) ->
    {noreply, #state{}}.
handle_call({deliver, Pairs}, From, #state{changes = Changes} = State) ->
    Entry = {From, Pairs, deadline()},
    {noreply, flush(State#state{changes = queue:in(Entry, Changes)})}.

-spec handle_cast(latest_pending, #state{}) -> {noreply, #state{}}.
handle_cast(latest_pending, #state{latest_deadline = undefined} = State) ->
    {noreply, flush(State#state{latest_deadline = deadline()})};
handle_cast(latest_pending, State) ->
    {noreply, flush(State)}.

-spec handle_info(retry, #state{}) -> {noreply, #state{}}.
handle_info(retry, State) ->
    {noreply, flush(State#state{timer = undefined})};
handle_info(_Other, State) ->
    {noreply, State}.

%% ---- delivery ----

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
