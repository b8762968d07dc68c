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
%% How: a caller sends a state change itself when nothing is queued (the success path costs an
%% atomics read), else queues it behind the others so that they keep their order. The NIF holds
%% the newest refused latest-wins message (a newer one that is sent or refused replaces it under
%% the NIF's lock), and this process sends it after the queued changes. The process waits for
%% room without using the CPU: enif_select on the socket's writability, which for a connected
%% AF_UNIX datagram socket on Linux reflects the manager's receive queue, with a slow timer as a
%% fallback for sockets where it does not. A caller's deadline ends its wait, not the message.
-module(vigil_delivery).
-behaviour(gen_server).

-export([deliver/1, status/1, ping/0, barrier/1, send_fds/2, class/1]).
-export([start_link/0, queue/1, queue_latest/0, drained/1, watch_ready/1, ready_delivered/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-include_lib("kernel/include/logger.hrl").

%% The number of changes queued, read by callers before they send a change themselves.
-define(QUEUED, {?MODULE, queued}).
%% How long a wait for room lasts at most before the queue is tried again anyway.
-define(FALLBACK_MS, 1000).

-type class() :: change | latest | once.
-type result() :: ok | {error, timeout | inet:posix() | {invalid, term()}}.
-export_type([class/0, result/0]).

-record(state, {
    %% Changes, and the callers of drained/1 waiting behind them.
    changes = queue:new() :: queue:queue({change, reference(), vigil_nif:pairs()}
                                         | {drained, gen_server:from()}),
    %% Callers still waiting, by entry: they get the outcome, or timeout at the deadline.
    callers = #{} :: #{reference() => {gen_server:from(), reference() | undefined}},
    %% The NIF may hold a refused latest-wins message.
    latest = false :: boolean(),
    %% READY=1 has been delivered since the process started; the processes to tell when it is.
    ready = false :: boolean(),
    ready_watchers = [] :: [pid()],
    %% Waiting for room: the watch (undefined when there is no socket to watch) and the
    %% fallback timer.
    wait :: undefined | {{vigil_nif:watch(), reference()} | undefined, reference()},
    queued :: atomics:atomics_ref()
}).

%% ---- the policy, run in the caller ----

%% @doc Deliver a message by its class.
-spec deliver(vigil_nif:pairs()) -> result().
deliver(Pairs) ->
    case class(Pairs) of
        change -> ready_sent(Pairs, change(Pairs));
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

%% @doc BARRIER=1 behind the changes queued before it. A full queue is waited out, on the
%% socket's writability, until `Timeout'; then the caller waits, without running, until the
%% manager has read every earlier message.
-spec barrier(timeout()) -> ok | {error, timeout | inet:posix()}.
barrier(Timeout) ->
    Deadline = deadline(Timeout),
    case drained(Timeout) of
        ok -> start_barrier(Deadline);
        {error, timeout} = Error -> Error
    end.

%% @doc Messages that carry descriptors (the fd store), in order, behind the changes queued
%% before them: each is sent as soon as the manager's queue has room, until `Timeout', then
%% BARRIER=1, so that the caller returns once the manager has processed them. An error other than
%% a full queue stops there: the messages before it were sent.
-spec send_fds([{vigil_nif:pairs(), [non_neg_integer()]}], timeout()) ->
          ok | {error, timeout | inet:posix() | {invalid, term()}}.
send_fds(Messages, Timeout) ->
    Deadline = deadline(Timeout),
    case drained(Timeout) of
        ok -> send_each(Messages, Deadline);
        {error, timeout} = Error -> Error
    end.

send_each([], Deadline) ->
    start_barrier(Deadline);
send_each([{Pairs, Fds} | Rest] = Messages, Deadline) ->
    case vigil_nif:send_fds(Pairs, Fds) of
        ok ->
            send_each(Rest, Deadline);
        {error, eagain} ->
            case await_room(Deadline) of
                ok -> send_each(Messages, Deadline);
                timeout -> {error, timeout}
            end;
        Error ->
            Error
    end.

deadline(infinity) -> infinity;
deadline(Timeout) -> erlang:monotonic_time(millisecond) + Timeout.

start_barrier(Deadline) ->
    Ref = make_ref(),
    case vigil_nif:barrier_start(Ref) of
        {ok, Watch} ->
            case await(Watch, Ref, ready_input, Deadline) of
                ok -> ok;
                timeout -> {error, timeout}
            end;
        {error, eagain} ->
            case await_room(Deadline) of
                ok -> start_barrier(Deadline);
                timeout -> {error, timeout}
            end;
        Result ->
            Result
    end.

%% The caller waits for room in the manager's queue.
await_room(Deadline) ->
    Ref = make_ref(),
    case vigil_nif:writable_select(Ref) of
        {ok, Watch} ->
            await(Watch, Ref, ready_output, Deadline);
        _NoSocket ->
            receive after min(100, remaining(Deadline)) -> ok end,
            case remaining(Deadline) of
                0 -> timeout;
                _ -> ok
            end
    end.

await(Watch, Ref, Event, Deadline) ->
    receive
        {select, Watch, Ref, Event} ->
            ok = vigil_nif:select_stop(Watch)
    after remaining(Deadline) ->
        ok = vigil_nif:select_stop(Watch),
        receive {select, Watch, Ref, _} -> ok after 0 -> ok end,
        timeout
    end.

remaining(infinity) -> infinity;
remaining(Deadline) -> max(0, Deadline - erlang:monotonic_time(millisecond)).

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

%% READY=1 sent, or queued to be, whoever sent it: this module's process keeps it, for
%% watch_ready/1 and ready_delivered/0.
ready_sent(Pairs, Result) when Result =:= ok; Result =:= {error, timeout} ->
    case lists:any(fun is_ready/1, Pairs) of
        true -> gen_server:cast(?MODULE, ready_sent);
        false -> ok
    end,
    Result;
ready_sent(_Pairs, Result) ->
    Result.

is_ready({Key, Value}) ->
    key(Key) =:= <<"READY">> andalso (Value =:= <<"1">> orelse Value =:= 1).

%% A change goes behind the changes queued before it, if any.
change(Pairs) ->
    case queued() of
        0 ->
            case vigil_nif:send(Pairs) of
                {error, eagain} -> queue(Pairs);
                Result -> Result
            end;
        _ ->
            queue(Pairs)
    end.

queued() ->
    case persistent_term:get(?QUEUED, undefined) of
        undefined -> 0;
        Counter -> atomics:get(Counter, 1)
    end.

%% A latest-wins message the full queue refused waits in the NIF; this process sends it.
latest({error, eagain}) -> queue_latest();
latest(Result) -> Result.

%% ---- the process ----

-spec start_link() -> {ok, pid()} | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% @doc Queue a change and wait for the outcome, or for the deadline. Without the process (the
%% application is not running) the change is sent once.
-spec queue(vigil_nif:pairs()) -> result().
queue(Pairs) ->
    try gen_server:call(?MODULE, {queue, Pairs}, infinity) of
        badarg -> error(badarg, [Pairs]);
        Result -> Result
    catch
        exit:{noproc, _} -> vigil_nif:send(Pairs)
    end.

%% @doc Wait until the changes queued now have been sent (a barrier must not overtake them).
-spec drained(timeout()) -> ok | {error, timeout}.
drained(Timeout) ->
    case queued() of
        0 ->
            ok;
        _ ->
            try gen_server:call(?MODULE, drained, Timeout)
            catch
                exit:{timeout, _} -> {error, timeout};
                exit:{noproc, _} -> ok
            end
    end.

%% @doc Whether READY=1 has been delivered (sent, or queued); if not, `Pid' gets
%% `{vigil_delivery, ready_sent}' when it is. False without the process.
-spec watch_ready(pid()) -> boolean().
watch_ready(Pid) ->
    try gen_server:call(?MODULE, {watch_ready, Pid}, infinity)
    catch exit:{noproc, _} -> false
    end.

%% @doc Whether READY=1 has been delivered. Every READY=1 delivered before the call, by any
%% process, counts: the caller's call comes after its notice in this process's queue.
-spec ready_delivered() -> boolean().
ready_delivered() ->
    try gen_server:call(?MODULE, ready_delivered, infinity)
    catch exit:{noproc, _} -> false
    end.

%% @doc The NIF holds a refused latest-wins message: send it when there is room.
-spec queue_latest() -> ok.
queue_latest() ->
    gen_server:cast(?MODULE, queue_latest).

-spec init([]) -> {ok, #state{}}.
init([]) ->
    Counter = case persistent_term:get(?QUEUED, undefined) of
                  undefined ->
                      New = atomics:new(1, [{signed, false}]),
                      persistent_term:put(?QUEUED, New),
                      New;
                  Existing ->
                      Existing
              end,
    atomics:put(Counter, 1, 0),
    {ok, #state{queued = Counter}}.

-spec handle_call({queue, vigil_nif:pairs()} | drained | {watch_ready, pid()} | ready_delivered,
                  gen_server:from(), #state{}) ->
    {noreply, #state{}} | {reply, boolean(), #state{}}.
handle_call({queue, Pairs}, From, #state{changes = Changes, callers = Callers} = State) ->
    Id = make_ref(),
    atomics:add(State#state.queued, 1, 1),
    Caller = {From, deadline_timer(Id, vigil_config:get(send_deadline))},
    {noreply, flush(State#state{changes = queue:in({change, Id, Pairs}, Changes),
                                callers = Callers#{Id => Caller}})};
handle_call(drained, From, #state{changes = Changes} = State) ->
    {noreply, flush(State#state{changes = queue:in({drained, From}, Changes)})};
handle_call({watch_ready, _Pid}, _From, #state{ready = true} = State) ->
    {reply, true, State};
handle_call({watch_ready, Pid}, _From, #state{ready_watchers = Watchers} = State) ->
    {reply, false, State#state{ready_watchers = [Pid | Watchers]}};
handle_call(ready_delivered, _From, #state{ready = Ready} = State) ->
    {reply, Ready, State}.

-spec handle_cast(queue_latest | ready_sent, #state{}) -> {noreply, #state{}}.
handle_cast(queue_latest, State) ->
    {noreply, flush(State#state{latest = true})};
handle_cast(ready_sent, #state{ready_watchers = Watchers} = State) ->
    _ = [Pid ! {?MODULE, ready_sent} || Pid <- Watchers],
    {noreply, State#state{ready = true, ready_watchers = []}}.

-spec handle_info(term(), #state{}) -> {noreply, #state{}}.
handle_info({select, Watch, Ref, ready_output}, #state{wait = {{Watch, Ref}, _}} = State) ->
    {noreply, flush(stop_waiting(State))};
handle_info({timeout, Timer, retry}, #state{wait = {_, Timer}} = State) ->
    {noreply, flush(stop_waiting(State))};
handle_info({timeout, _, {deadline, Id}}, #state{callers = Callers} = State) ->
    case maps:take(Id, Callers) of
        {{From, _}, Rest} ->
            gen_server:reply(From, {error, timeout}),
            {noreply, State#state{callers = Rest}};
        error ->
            {noreply, State}
    end;
handle_info(_Stale, State) ->
    {noreply, State}.

deadline_timer(_Id, infinity) -> undefined;
deadline_timer(Id, Ms) -> erlang:start_timer(Ms, self(), {deadline, Id}).

%% Send what is queued, changes first, until the manager's queue refuses one.
flush(#state{wait = {_, _}} = State) ->
    State;
flush(#state{changes = Changes} = State) ->
    case queue:peek(Changes) of
        {value, {drained, From}} ->
            gen_server:reply(From, ok),
            flush(State#state{changes = queue:drop(Changes)});
        {value, {change, Id, Pairs}} ->
            case attempt(Pairs) of
                {error, eagain} ->
                    wait(State);
                Result ->
                    atomics:sub(State#state.queued, 1, 1),
                    flush(answer(Id, Result, State#state{changes = queue:drop(Changes)}))
            end;
        empty ->
            flush_latest(State)
    end.

%% A message of the wrong type is the caller's badarg, not this process's crash.
attempt(Pairs) ->
    try vigil_nif:send(Pairs)
    catch error:badarg -> badarg
    end.

answer(Id, Result, #state{callers = Callers} = State) ->
    case maps:take(Id, Callers) of
        {{From, Timer}, Rest} ->
            _ = Timer =/= undefined andalso erlang:cancel_timer(Timer, [{async, true}, {info, false}]),
            gen_server:reply(From, Result),
            State#state{callers = Rest};
        error when Result =:= ok ->
            State;
        error ->
            ?LOG_WARNING("vigil: a notification whose sender stopped waiting could not be "
                         "delivered: ~0tp", [Result]),
            State
    end.

flush_latest(#state{latest = false} = State) ->
    State;
flush_latest(State) ->
    case vigil_nif:flush_latest() of
        {error, eagain} -> wait(State);
        _ -> State#state{latest = false}
    end.

wait(State) ->
    Ref = make_ref(),
    Watch = case vigil_nif:writable_select(Ref) of
                {ok, W} -> {W, Ref};
                _NoSocket -> undefined
            end,
    Fallback = case Watch of
                   undefined -> 100;
                   _ -> ?FALLBACK_MS
               end,
    State#state{wait = {Watch, erlang:start_timer(Fallback, self(), retry)}}.

stop_waiting(#state{wait = {Watch, Timer}} = State) ->
    _ = erlang:cancel_timer(Timer, [{async, true}, {info, false}]),
    case Watch of
        {W, _Ref} -> ok = vigil_nif:select_stop(W);
        undefined -> ok
    end,
    State#state{wait = undefined}.
