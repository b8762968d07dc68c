%% @private
%% @doc Pings the manager's watchdog while the node is healthy.
%%
%% Runs at high priority. Pings are sent from this process straight through the NIF. Ping
%% deadlines are absolute (erlang:start_timer/4 with `{abs, true}' on the monotonic clock): the
%% k-th ping is due at start + k * interval whatever happened before, so lateness does not add
%% up, and every tick records how late it fired.
%%
%% Health checks run once the application is up (vigil_boot: READY=1 sent or the boot over);
%% before, the pings go out without them, keeping the manager's watchdog, armed from the
%% service's start, fed during the boot (TimeoutStartSec= governs the boot). They run in
%% processes of their own (spawn_monitor), all at once, each under its own timer; a check that
%% hangs is killed when its time is up and never holds this process. The ping waits for the
%% round: one failure, exception or timeout skips it.
%%
%% A summary of what it measured goes to the journal (vigil_watchdog_summary) every
%% `watchdog_summary_interval', when it stops (terminate/2: it traps exits, so the supervisor's
%% shutdown, the application's stop or the node's, calls it with the counts still here), and on
%% request. The shutdown hook (vigil_lifecycle) disables the pings at STOPPING=1, well before:
%% a summary is written while a manager has a timeout for this BEAM, pinging or not.
-module(vigil_watchdog).
-behaviour(gen_server).

-export([start_link/0, enable/0, disable/0, set_timeout/1, info/0, restarting/0, summary/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).
-export([report/1]).

-include_lib("kernel/include/logger.hrl").

-define(LOG_EVERY_MS, 30000).
%% The recommendation keeps the worst gap seen at a third of the part of the timeout that is
%% left after the interval.
-define(MARGIN, 3).

-type check() :: {M :: module(), F :: atom(), A :: [term()]} | fun(() -> term()).
-export_type([check/0]).

%% `elixir': the check is written in Elixir, and its failures are told in Elixir's terms.
-record(check, {name :: binary(), run :: check(), timeout :: pos_integer(),
                elixir = false :: boolean()}).
-record(running, {check :: #check{}, pid :: pid(), timer :: reference(), started :: integer()}).

-record(state, {
    enabled = true :: boolean(),
    %% The application is up (vigil_boot): health checks run before pings from then on.
    checking = false :: boolean(),
    pid_ok = true :: boolean(),
    timeout_us :: undefined | pos_integer(),
    fraction = 0.5 :: float(),
    checks = [] :: [#check{}],
    trigger_after = infinity :: pos_integer() | infinity,
    timer :: undefined | reference(),
    deadline :: undefined | integer(),
    round = #{} :: #{reference() => #running{}},
    pings = 0 :: non_neg_integer(),
    skipped = 0 :: non_neg_integer(),
    send_errors = 0 :: non_neg_integer(),
    last_ping :: undefined | integer(),
    %% When the tick that led to the last ping sent was due.
    last_ping_tick :: undefined | integer(),
    lateness = vigil_histogram:new() :: vigil_histogram:histogram(),
    longest_check = 0 :: non_neg_integer(),
    failures = 0 :: non_neg_integer(),
    %% The failure that lets the manager's watchdog expire has been logged, in this run of
    %% failures.
    fatal_logged = false :: boolean(),
    logged = #{} :: #{binary() => {integer(), non_neg_integer()}},
    %% When this process started: what the summary's numbers cover.
    started :: integer(),
    summary_interval = false :: pos_integer() | infinity | false,
    journal :: vigil_nif:journal() | undefined
}).

-spec start_link() -> {ok, pid()} | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

-spec enable() -> ok.
enable() -> gen_server:call(?MODULE, enable).

-spec disable() -> ok.
disable() -> gen_server:call(?MODULE, disable).

%% The manager has been told the new timeout: ping on the new interval from now.
-spec set_timeout(pos_integer()) -> ok.
set_timeout(Usec) -> gen_server:call(?MODULE, {set_timeout, Usec}).

-spec info() -> map().
info() -> gen_server:call(?MODULE, info).

%% @doc The node restarts in place: ping without the health checks, which its stopping
%% applications would fail. Returns whether pings are being sent.
-spec restarting() -> boolean().
restarting() -> gen_server:call(?MODULE, restarting).

%% @doc Write the summary entry now (vigil:watchdog_summary/0).
-spec summary() -> ok | {error, no_watchdog | crashed | inet:posix()}.
summary() -> gen_server:call(?MODULE, summary).

%% ---- gen_server ----

-spec init([]) -> {ok, #state{}}.
init([]) ->
    process_flag(priority, high),
    process_flag(trap_exit, true),
    State = #state{timeout_us = env_timeout(vigil_env:watchdog_usec()),
                   pid_ok = pid_ok(vigil_env:watchdog_pid()),
                   fraction = vigil_config:get(watchdog_fraction),
                   checks = [#check{run = Run, timeout = Timeout, name = Name,
                                    elixir = vigil_reason:is_elixir(Run)}
                             || #{check := Run, timeout := Timeout, name := Name}
                                    <- vigil_config:get(health_checks)],
                   trigger_after = vigil_config:get(watchdog_trigger_after),
                   checking = vigil_boot:watch_up(self()),
                   started = now_ms(),
                   summary_interval = vigil_config:get(watchdog_summary_interval),
                   journal = vigil_watchdog_summary:open()},
    schedule_summary(State),
    {ok, start_ticking(now_ms(), State)}.

-spec handle_call(enable | disable | {set_timeout, pos_integer()} | info | restarting | summary,
                  gen_server:from(), #state{}) -> {reply, term(), #state{}}.
handle_call(enable, _From, #state{enabled = true} = State) ->
    {reply, ok, State};
handle_call(enable, _From, State) ->
    {reply, ok, start_ticking(now_ms(), State#state{enabled = true})};
handle_call(disable, _From, State) ->
    {reply, ok, stop_ticking(State#state{enabled = false})};
handle_call({set_timeout, Usec}, _From, State) ->
    Stopped = stop_ticking(State#state{timeout_us = Usec}),
    {reply, ok, start_ticking(now_ms() + interval_ms(Stopped), Stopped)};
handle_call(info, _From, State) ->
    {reply, info(State), State};
handle_call(summary, _From, State) ->
    {reply, write_summary(requested, State), State};
handle_call(restarting, _From, State) ->
    Unchecked = abort_round(State#state{checking = false}),
    case active(State) of
        true -> {reply, true, ping(Unchecked)};
        false -> {reply, false, Unchecked}
    end.

-spec handle_cast(term(), #state{}) -> {noreply, #state{}}.
handle_cast(_Msg, State) ->
    {noreply, State}.

-spec handle_info(term(), #state{}) -> {noreply, #state{}}.
handle_info({vigil_boot, up}, State) ->
    %% The application is up: run the health checks before every ping from now on.
    {noreply, State#state{checking = true}};
handle_info({timeout, Timer, tick}, #state{timer = Timer} = State) ->
    {noreply, tick(State)};
handle_info({timeout, _Timer, summary}, State) ->
    _ = write_summary(periodic, State),
    schedule_summary(State),
    {noreply, State};
handle_info({timeout, _Timer, {check_timeout, Ref}}, State) ->
    {noreply, check_timed_out(Ref, State)};
handle_info({'DOWN', Ref, process, _Pid, Result}, #state{round = Round} = State)
  when is_map_key(Ref, Round) ->
    {noreply, check_done(Ref, Result, State)};
handle_info(_Stale, State) ->
    {noreply, State}.

-spec terminate(term(), #state{}) -> ok.
terminate(_Reason, State) ->
    _ = abort_round(State),
    _ = State#state.summary_interval =/= false andalso write_summary(shutdown, State),
    ok.

%% ---- schedule ----

%% Without a manager to ping (no NOTIFY_SOCKET, or a platform without systemd) it stays idle.
active(#state{enabled = Enabled, pid_ok = PidOk, timeout_us = Timeout}) ->
    Enabled andalso PidOk andalso Timeout =/= undefined andalso vigil_nif:enabled().

interval_ms(#state{timeout_us = undefined}) ->
    undefined;
interval_ms(#state{timeout_us = Timeout, fraction = Fraction}) ->
    max(1, round(Timeout * Fraction / 1000)).

start_ticking(Deadline, State) ->
    case active(State) of
        true -> schedule(Deadline, State);
        false -> State
    end.

stop_ticking(#state{timer = Timer} = State) ->
    _ = Timer =/= undefined andalso erlang:cancel_timer(Timer, [{async, true}, {info, false}]),
    abort_round(State#state{timer = undefined, deadline = undefined}).

schedule(Deadline, State) ->
    Timer = erlang:start_timer(Deadline, self(), tick, [{abs, true}]),
    State#state{timer = Timer, deadline = Deadline}.

tick(#state{deadline = Deadline, lateness = Lateness} = State) ->
    NowUs = erlang:monotonic_time(microsecond),
    Late = max(0, NowUs - Deadline * 1000),
    Interval = interval_ms(State),
    %% Ticks missed altogether (a suspended VM) are skipped, keeping the grid.
    Next = Deadline + Interval * (1 + max(0, NowUs div 1000 - Deadline) div Interval),
    Scheduled = schedule(Next, State#state{lateness = vigil_histogram:add(Late, Lateness)}),
    start_round(Scheduled).

%% ---- health checks ----

start_round(#state{checks = []} = State) ->
    ping(State);
start_round(#state{checking = false} = State) ->
    %% Booting: the application's processes may not exist yet, and a check would fail for it.
    ping(State);
start_round(#state{round = Round} = State) when map_size(Round) > 0 ->
    skip(<<"health checks">>, <<"the previous round is still running">>, State);
start_round(#state{checks = Checks} = State) ->
    State#state{round = maps:from_list([spawn_check(C) || C <- Checks])}.

spawn_check(#check{run = Run, timeout = Timeout} = Check) ->
    {Pid, Ref} = spawn_monitor(?MODULE, report, [Run]),
    Timer = erlang:start_timer(Timeout, self(), {check_timeout, Ref}),
    {Ref, #running{check = Check, pid = Pid, timer = Timer,
                   started = erlang:monotonic_time(microsecond)}}.

%% The outcome travels as the exit reason of the check's process, in the 'DOWN' message.
-spec report(check()) -> no_return().
report(Run) ->
    exit(try call(Run) of
             Result -> {vigil_check, Result}
         catch
             Class:Reason:Stack -> {vigil_check, {raised, Class, Reason, Stack}}
         end).

call({M, F, A}) -> apply(M, F, A);
call(Fun) -> Fun().

check_done(Ref, Result, #state{round = Round, longest_check = Longest} = State) ->
    #running{check = Check, timer = Timer, started = Started} = maps:get(Ref, Round),
    _ = erlang:cancel_timer(Timer, [{async, true}, {info, false}]),
    Took = erlang:monotonic_time(microsecond) - Started,
    Rest = State#state{round = maps:remove(Ref, Round), longest_check = max(Longest, Took)},
    case passed(Result, Check#check.elixir) of
        true when map_size(Rest#state.round) =:= 0 -> ping(Rest);
        true -> Rest;
        {false, Why} -> skip(Check#check.name, Why, abort_round(Rest))
    end.

check_timed_out(Ref, #state{round = Round} = State) ->
    case maps:find(Ref, Round) of
        {ok, #running{check = Check, pid = Pid}} ->
            exit(Pid, kill),
            erlang:demonitor(Ref, [flush]),
            Rest = State#state{round = maps:remove(Ref, Round)},
            Why = io_lib:format("no answer within ~b ms", [Check#check.timeout]),
            skip(Check#check.name, Why, abort_round(Rest));
        error ->
            State
    end.

passed({vigil_check, ok}, _Elixir) -> true;
passed({vigil_check, true}, _Elixir) -> true;
passed({vigil_check, {ok, _}}, _Elixir) -> true;
passed({vigil_check, {raised, Class, Reason, Stack}}, Elixir) ->
    {false, vigil_reason:raised(Class, Reason, Stack, Elixir)};
passed({vigil_check, Other}, Elixir) ->
    {false, vigil_reason:returned(Other, Elixir)};
passed(Exit, Elixir) ->
    {false, vigil_reason:exited(Exit, Elixir)}.

abort_round(#state{round = Round} = State) ->
    maps:foreach(fun(Ref, #running{pid = Pid, timer = Timer}) ->
                         exit(Pid, kill),
                         erlang:demonitor(Ref, [flush]),
                         erlang:cancel_timer(Timer, [{async, true}, {info, false}])
                 end, Round),
    State#state{round = #{}}.

%% ---- outcomes ----

ping(#state{pings = Pings, send_errors = Errors, failures = Failures} = State) ->
    log_recovery(Failures),
    Passed = State#state{failures = 0, logged = #{}, fatal_logged = false},
    case vigil_delivery:ping() of
        ok -> Passed#state{pings = Pings + 1, last_ping = now_ms(),
                           last_ping_tick = previous_tick(State)};
        {error, _} -> Passed#state{send_errors = Errors + 1}
    end.

log_recovery(0) ->
    ok;
log_recovery(Failures) ->
    ?LOG_NOTICE("vigil: health checks pass again after ~b skipped watchdog pings", [Failures]).

skip(Name, Why, #state{skipped = Skipped, failures = Failures} = State) ->
    Counted = State#state{skipped = Skipped + 1, failures = Failures + 1},
    maybe_trigger(case expires(Counted) of
                      {true, Since, Next} when not Counted#state.fatal_logged ->
                          log_fatal(Name, Why, Since, Next, Counted);
                      _ ->
                          Counted#state{logged = log_skip(Name, Why, Failures + 1,
                                                          State#state.logged)}
                  end).

%% The tick whose round is running, or has just pinged: the one before the next.
previous_tick(#state{deadline = undefined}) -> undefined;
previous_tick(#state{deadline = Next} = State) -> Next - interval_ms(State).

%% Whether the ping skipped now lets the manager's watchdog expire: the next tick is due a
%% timeout or more after the tick of the last ping sent. Ticks, not the moments pings left,
%% are compared: a ping leaves as late after its tick as its checks take, and the next would
%% too, so the next ping reaches the manager after the timeout counted from the last one.
%% Without a ping sent yet, nothing says the manager has one.
expires(#state{timeout_us = Timeout, deadline = Next, last_ping = Last, last_ping_tick = Tick})
  when is_integer(Timeout), is_integer(Next) ->
    Now = now_ms(),
    case Last of
        undefined -> {true, undefined, Next - Now};
        _ when Tick =:= undefined; Next - Tick >= Timeout div 1000 ->
            {true, Now - Last, Next - Now};
        _ -> false
    end;
expires(_State) ->
    false.

%% Logged whatever the rate limit, once in a run of failures, and shown as the status line.
log_fatal(Name, Why, Since, Next, #state{timeout_us = Timeout, logged = Logged} = State) ->
    LastPing = case Since of
                   undefined -> "no ping has been sent yet";
                   _ -> io_lib:format("the last ping was ~b ms ago", [Since])
               end,
    ?LOG_ERROR("vigil: health check ~ts failed: ~ts; watchdog ping skipped, and the manager's "
               "watchdog will expire (WatchdogSec=): ~ts, the next cannot come for ~b ms, and "
               "the timeout is ~b ms (~b skipped in a row)",
               [Name, Why, LastPing, max(0, Next), Timeout div 1000, State#state.failures]),
    _ = vigil_delivery:status(
          unicode:characters_to_binary(["watchdog: health check ", Name, " failed: ", Why])),
    State#state{fatal_logged = true, logged = Logged#{Name => {now_ms(), 0}}}.

%% The first failure of a check is logged at once, then once per ?LOG_EVERY_MS at most.
log_skip(Name, Why, Consecutive, Logged) ->
    Now = now_ms(),
    case maps:get(Name, Logged, undefined) of
        {Last, Suppressed} when Now - Last < ?LOG_EVERY_MS ->
            Logged#{Name => {Last, Suppressed + 1}};
        Previous ->
            Suppressed = case Previous of undefined -> 0; {_, N} -> N end,
            ?LOG_WARNING("vigil: health check ~ts failed: ~ts; watchdog ping skipped "
                         "(~b in a row, ~b similar messages suppressed)",
                         [Name, Why, Consecutive, Suppressed]),
            Logged#{Name => {Now, 0}}
    end.

maybe_trigger(#state{trigger_after = After, failures = After} = State) when is_integer(After) ->
    ?LOG_ERROR("vigil: ~b watchdog pings skipped in a row; sending WATCHDOG=trigger", [After]),
    %% Delivery may wait for the manager's queue: not in this process.
    _ = spawn(fun() -> vigil_delivery:deliver([{<<"WATCHDOG">>, <<"trigger">>}]) end),
    State;
maybe_trigger(State) ->
    State.

%% ---- info ----

info(#state{lateness = Lateness} = State) ->
    #{enabled => State#state.enabled,
      active => active(State),
      pid_mismatch => not State#state.pid_ok,
      timeout => timeout_ms(State#state.timeout_us),
      interval => interval_ms(State),
      pings => State#state.pings,
      skipped => State#state.skipped,
      send_errors => State#state.send_errors,
      last_ping_age => age(State#state.last_ping),
      lateness => #{max => vigil_histogram:max(Lateness),
                    p50 => vigil_histogram:percentile(50, Lateness),
                    p99 => vigil_histogram:percentile(99, Lateness)},
      longest_check => State#state.longest_check,
      recommended_watchdog_sec => recommended_sec(State)}.

timeout_ms(undefined) -> undefined;
timeout_ms(Usec) -> Usec div 1000.

age(undefined) -> undefined;
age(Last) -> now_ms() - Last.

%% WatchdogSec= such that the interval plus ?MARGIN times the worst delay seen before a ping
%% (timer lateness plus the longest a passing round of checks may take) still fits.
recommended_sec(#state{lateness = Lateness, checks = Checks, longest_check = Longest,
                       fraction = Fraction}) ->
    CheckBound = lists:max([Longest | [T * 1000 || #check{timeout = T} <- Checks]]),
    Worst = vigil_histogram:max(Lateness) + CheckBound,
    max(1, ceil(?MARGIN * Worst / (1 - Fraction) / 1000000)).

%% ---- summary ----

schedule_summary(#state{summary_interval = Ms}) when is_integer(Ms) ->
    _ = erlang:start_timer(Ms, self(), summary),
    ok;
schedule_summary(_State) ->
    ok.

%% A manager watches this BEAM: it has a timeout (WATCHDOG_USEC, or watchdog_timeout/1), and
%% WATCHDOG_PID names no other process. Whether pings are enabled now does not matter.
watched(#state{pid_ok = PidOk, timeout_us = Timeout}) ->
    PidOk andalso Timeout =/= undefined andalso vigil_nif:enabled().

%% Whatever happens to the entry, the watchdog goes on.
write_summary(Reason, State) ->
    case watched(State) of
        true ->
            try vigil_watchdog_summary:write(Reason, summary(State), State#state.journal)
            catch
                Class:Why:Stack ->
                    ?LOG_ERROR("vigil: the watchdog summary could not be written: ~ts",
                               [erl_error:format_exception(Class, Why, Stack)]),
                    {error, crashed}
            end;
        false ->
            {error, no_watchdog}
    end.

summary(#state{lateness = Lateness, checks = Checks, timeout_us = Usec} = State) ->
    Summary = #{pings => State#state.pings,
                skipped => State#state.skipped,
                send_errors => State#state.send_errors,
                ticks => vigil_histogram:count(Lateness),
                lateness_p50_us => vigil_histogram:percentile(50, Lateness),
                lateness_p99_us => vigil_histogram:percentile(99, Lateness),
                lateness_max_us => vigil_histogram:max(Lateness),
                longest_check_us => State#state.longest_check,
                health_checks => length(Checks),
                check_timeout_ms => lists:max([0 | [T || #check{timeout = T} <- Checks]]),
                interval_us => interval_ms(State) * 1000,
                usec => Usec,
                recommended_sec => recommended_sec(State),
                uptime_sec => (now_ms() - State#state.started) div 1000,
                enabled => case State#state.enabled of true -> 1; false -> 0 end},
    case age(State#state.last_ping) of
        undefined -> Summary;
        Age -> Summary#{last_ping_age_ms => Age}
    end.

%% ---- the environment the manager hands over: logged and turned off when unusable ----

now_ms() ->
    erlang:monotonic_time(millisecond).

env_timeout(undefined) ->
    undefined;
env_timeout(Value) ->
    try binary_to_integer(Value) of
        Usec when Usec > 0 -> Usec;
        _ -> bad_timeout(Value)
    catch
        error:badarg -> bad_timeout(Value)
    end.

bad_timeout(Value) ->
    ?LOG_WARNING("vigil: WATCHDOG_USEC=~ts is not a positive number of microseconds; "
                 "no watchdog pings are sent", [Value]),
    undefined.

pid_ok(undefined) ->
    true;
pid_ok(Value) ->
    Own = list_to_binary(os:getpid()),
    case Value =:= Own of
        true ->
            true;
        false ->
            ?LOG_ERROR("vigil: the manager watches OS process ~ts (WATCHDOG_PID), but this BEAM "
                       "is OS process ~ts: no watchdog pings are sent. A start script that "
                       "does not exec into the BEAM causes this.", [Value, Own]),
            false
    end.
