%% The watchdog against a real receiver, with a 200 ms WATCHDOG_USEC (a ping every 100 ms).
-module(vigil_watchdog_tests).

-include_lib("eunit/include/eunit.hrl").

-compile([export_all, nowarn_export_all]).

-import(vigil_test_receiver, [recv/2, recv_all/1]).

-define(USEC, "200000").
-define(INTERVAL, 100).
-define(ENV_KEYS, [health_checks, watchdog_trigger_after, watchdog_fraction,
                   watchdog_summary_interval]).

%% ---- fixtures ----

%% Each test gets a receiver and the application restarted with `Vars' and `Env', from the
%% test's own process, which is registered as ?MODULE to receive the captured logs.
with_watchdog(Vars, Env, Tests) ->
    {foreach,
     fun() -> vigil_test_receiver:open(path) end,
     fun cleanup/1,
     [fun(R) ->
              {atom_to_list(Name),
               {timeout, 20, fun() -> start(R, Vars, Env), ?MODULE:Name(R) end}}
      end || Name <- Tests]}.

start(R, Vars, Env) ->
    register(?MODULE, self()),
    _ = application:stop(vigil),
    case application:load(vigil) of
        ok -> ok;
        {error, {already_loaded, vigil}} -> ok
    end,
    %% No summary in the journal of the machine that runs the tests (see
    %% vigil_watchdog_summary_tests).
    [ok = application:set_env(vigil, K, V)
     || {K, V} <- [{watchdog_summary_interval, false} | Env]],
    _ = logger:remove_handler(?MODULE),
    ok = logger:add_handler(?MODULE, ?MODULE, #{level => all}),
    Address = binary_to_list(vigil_test_receiver:address(R)),
    vigil_test_receiver:start_vigil_with([{"NOTIFY_SOCKET", Address} | Vars]),
    %% The health checks run once the application is up: READY=1 (this node never ends its
    %% boot, as the test runner runs in init's boot process).
    ok = vigil:ready(),
    skip_to_ready(R),
    #{pings := Pings} = vigil:watchdog_info(),
    put(pings_at_ready, Pings).

%% No ping since READY=1 (the pings of the boot go out without checks).
assert_no_ping_since_ready() ->
    Before = get(pings_at_ready),
    ?assertMatch(#{pings := Before}, vigil:watchdog_info()).

skip_to_ready(R) ->
    case recv(R, 1000) of
        {ok, <<"READY=1">>} -> ok;
        {ok, <<"WATCHDOG=1">>} -> skip_to_ready(R);
        Other -> error({expected_ready, Other})
    end.

cleanup(R) ->
    _ = logger:remove_handler(?MODULE),
    catch unregister(?MODULE),
    vigil_test_receiver:close(R),
    [application:unset_env(vigil, K) || K <- ?ENV_KEYS],
    vigil_test_receiver:start_vigil_without_manager().

%% ---- log capture: a logger handler that sends every event to the test process ----

-spec log(logger:log_event(), logger:handler_config()) -> term().
log(#{level := Level, msg := Msg}, _Config) ->
    case whereis(?MODULE) of
        undefined -> ok;
        Pid -> Pid ! {log, Level, iolist_to_binary(format(Msg))}
    end.

format({string, S}) -> S;
format({report, R}) -> io_lib:format("~tp", [R]);
format({Format, Args}) -> io_lib:format(Format, Args).

await_log(Level, Pattern) ->
    receive
        {log, Level, Text} = Log ->
            case binary:match(Text, Pattern) of
                nomatch -> await_log(Level, Pattern);
                _ -> Log
            end
    after 3000 ->
        error({no_log, Level, Pattern})
    end.

%% ---- helpers ----

%% Arrival times (ms) of the next N datagrams, which must all be pings.
ping_times(R, N) ->
    [begin
         ?assertEqual({ok, <<"WATCHDOG=1">>}, recv(R, 1000)),
         erlang:monotonic_time(millisecond)
     end || _ <- lists:seq(1, N)].

gaps([_]) -> [];
gaps([A, B | Rest]) -> [B - A | gaps([B | Rest])].

%% The cadence (the mean gap) is the interval. A single ping may come late when the machine is
%% loaded (another suite, ASan), and the next then comes early on the same schedule: each gap
%% stays between a quarter of the interval (no flood) and twice it (the manager's timeout at the
%% default fraction).
assert_interval(Interval, Times) ->
    Gaps = gaps(Times),
    [?assert(G >= Interval * 0.25 andalso G < Interval * 2, {gap, G, Gaps}) || G <- Gaps],
    Mean = lists:sum(Gaps) / length(Gaps),
    ?assert(abs(Mean - Interval) =< Interval * 0.15, {mean, Mean, Gaps}).

no_datagram_for(R, Ms) ->
    ?assertEqual({error, timeout}, recv(R, Ms)).

set_healthy(Value) ->
    persistent_term:put({?MODULE, healthy}, Value).

health() ->
    persistent_term:get({?MODULE, healthy}, ok).

%% ---- suites ----

pings_test_() ->
    with_watchdog([{"WATCHDOG_USEC", ?USEC}], [],
                  [pings_at_half_the_timeout, info_reports_pings, enable_twice_keeps_the_rate,
                   disable_stops_pings, timeout_changed_at_runtime, trigger_sent,
                   api_badarg]).

pid_test_() ->
    [with_watchdog([{"WATCHDOG_USEC", ?USEC}, {"WATCHDOG_PID", "1"}], [],
                   [pid_mismatch_logged_no_pings]),
     with_watchdog([{"WATCHDOG_USEC", ?USEC}, {"WATCHDOG_PID", os:getpid()}], [],
                   [pid_match_pings])].

no_timeout_test_() ->
    with_watchdog([], [], [idle_until_timeout_given]).

fraction_test_() ->
    with_watchdog([{"WATCHDOG_USEC", "400000"}], [{watchdog_fraction, 0.25}],
                  [fraction_sets_interval]).

health_test_() ->
    Named = #{check => fun ?MODULE:health/0, name => <<"database">>, timeout => 50},
    [with_watchdog([{"WATCHDOG_USEC", ?USEC}], [{health_checks, [Named]}],
                   [failing_check_skips_pings]),
     with_watchdog([{"WATCHDOG_USEC", ?USEC}],
                   [{health_checks, [{?MODULE, raising_check, []}]}],
                   [raising_check_skips_pings]),
     with_watchdog([{"WATCHDOG_USEC", ?USEC}],
                   [{health_checks, [{{?MODULE, hanging_check, []}, 30}]}],
                   [hanging_check_is_killed]),
     %% Two skipped pings at a quarter of the timeout each: the trigger comes before it ends.
     with_watchdog([{"WATCHDOG_USEC", "400000"}],
                   [{health_checks, [{?MODULE, raising_check, []}]},
                    {watchdog_trigger_after, 2}, {watchdog_fraction, 0.25}],
                   [trigger_after_consecutive_failures]),
     with_watchdog([{"WATCHDOG_USEC", ?USEC}],
                   [{health_checks, [fun() -> true end, {?MODULE, health, []}]}],
                   [passing_checks_ping]),
     %% A ping every 100 ms, a 400 ms timeout: the third skipped ping in a row is the one
     %% that lets it expire.
     with_watchdog([{"WATCHDOG_USEC", "400000"}],
                   [{health_checks, [#{check => fun ?MODULE:health/0, name => <<"database">>}]},
                    {watchdog_fraction, 0.25}],
                   [expiring_failure_logged_past_the_rate_limit])].

%% ---- tests: schedule and API ----

pings_at_half_the_timeout(R) ->
    assert_interval(?INTERVAL, ping_times(R, 7)).

info_reports_pings(R) ->
    _ = ping_times(R, 4),
    Info = vigil:watchdog_info(),
    ?assertMatch(#{enabled := true, active := true, pid_mismatch := false, timeout := 200,
                   interval := ?INTERVAL, skipped := 0, send_errors := 0}, Info),
    #{pings := Pings, last_ping_age := Age, recommended_watchdog_sec := Rec,
      lateness := #{max := Max, p50 := P50, p99 := P99}} = Info,
    ?assert(Pings >= 4),
    ?assert(Age >= 0 andalso Age < ?INTERVAL * 1.2),
    ?assert(P50 =< P99 andalso P99 =< Max),
    ?assert(is_integer(Rec) andalso Rec >= 1).

enable_twice_keeps_the_rate(R) ->
    ok = vigil:watchdog(disable),
    _ = recv_all(R),
    ok = vigil:watchdog(enable),
    ok = vigil:watchdog(enable),
    ok = vigil:watchdog(enable),
    Times = ping_times(R, 6),
    assert_interval(?INTERVAL, Times),
    %% A second schedule would put a ping between these.
    no_datagram_for(R, ?INTERVAL div 2),
    ?assertMatch(#{enabled := true, active := true}, vigil:watchdog_info()).

disable_stops_pings(R) ->
    _ = ping_times(R, 1),
    ok = vigil:watchdog(disable),
    ok = vigil:watchdog(disable),
    _ = recv_all(R),
    no_datagram_for(R, ?INTERVAL * 3),
    ?assertMatch(#{enabled := false, active := false}, vigil:watchdog_info()),
    ok = vigil:watchdog(enable),
    ?assertEqual({ok, <<"WATCHDOG=1">>}, recv(R, ?INTERVAL div 2)).

timeout_changed_at_runtime(R) ->
    _ = ping_times(R, 1),
    ok = vigil:watchdog_timeout(400),
    ?assertEqual({ok, <<"WATCHDOG_USEC=400000">>}, recv(R, 1000)),
    assert_interval(200, ping_times(R, 4)),
    ?assertMatch(#{timeout := 400, interval := 200}, vigil:watchdog_info()).

trigger_sent(R) ->
    _ = ping_times(R, 1),
    ok = vigil:watchdog(trigger),
    ?assertEqual({ok, <<"WATCHDOG=trigger">>}, recv(R, ?INTERVAL div 2)).

api_badarg(_R) ->
    ?assertError(badarg, vigil:watchdog(start)),
    ?assertError(badarg, vigil:watchdog_timeout(0)),
    ?assertError(badarg, vigil:watchdog_timeout(1.5)).

fraction_sets_interval(R) ->
    assert_interval(?INTERVAL, ping_times(R, 5)),
    ?assertMatch(#{timeout := 400, interval := ?INTERVAL}, vigil:watchdog_info()).

%% ---- tests: WATCHDOG_PID ----

pid_mismatch_logged_no_pings(R) ->
    {log, error, Text} = await_log(error, <<"WATCHDOG_PID">>),
    ?assertNotEqual(nomatch, binary:match(Text, <<"process 1 ">>)),
    ?assertNotEqual(nomatch, binary:match(Text, list_to_binary(os:getpid()))),
    no_datagram_for(R, ?INTERVAL * 3),
    ok = vigil:watchdog(enable),
    no_datagram_for(R, ?INTERVAL * 2),
    ?assertMatch(#{pid_mismatch := true, active := false, pings := 0}, vigil:watchdog_info()).

pid_match_pings(R) ->
    assert_interval(?INTERVAL, ping_times(R, 3)),
    ?assertMatch(#{pid_mismatch := false, active := true}, vigil:watchdog_info()).

idle_until_timeout_given(R) ->
    ?assertMatch(#{active := false, timeout := undefined, interval := undefined},
                 vigil:watchdog_info()),
    no_datagram_for(R, ?INTERVAL * 2),
    ok = vigil:watchdog_timeout(200),
    ?assertEqual({ok, <<"WATCHDOG_USEC=200000">>}, recv(R, 1000)),
    assert_interval(?INTERVAL, ping_times(R, 4)).

%% ---- tests: health checks ----

failing_check_skips_pings(R) ->
    set_healthy(ok),
    _ = ping_times(R, 2),
    set_healthy({error, unreachable}),
    %% At half the timeout, the first skipped ping already lets the manager's watchdog expire.
    {log, error, Text} = await_log(error, <<"database">>),
    ?assertNotEqual(nomatch, binary:match(Text, <<"watchdog will expire">>)),
    ?assertNotEqual(nomatch, binary:match(Text, <<"{error,unreachable}">>)),
    _ = recv_all(R),
    no_datagram_for(R, ?INTERVAL * 3),
    %% One line for a failing check, not one per skipped ping.
    ?assertEqual([], [T || {log, Level, T} <- flush_mailbox(), Level =/= debug,
                           Level =/= info]),
    #{skipped := Skipped} = vigil:watchdog_info(),
    ?assert(Skipped >= 3),
    set_healthy(ok),
    _ = await_log(notice, <<"pass again">>),
    assert_interval(?INTERVAL, ping_times(R, 3)).

raising_check_skips_pings(R) ->
    {log, error, Text} = await_log(error, <<"raising_check/0">>),
    ?assertNotEqual(nomatch, binary:match(Text, <<"raised error:disk_on_fire">>)),
    _ = recv_all(R),
    no_datagram_for(R, ?INTERVAL * 2),
    assert_no_ping_since_ready().

hanging_check_is_killed(R) ->
    Pid = receive {hanging, P} -> P after 1000 -> error(no_check) end,
    Ref = monitor(process, Pid),
    %% The watchdog answers while its check hangs.
    ?assertMatch(#{active := true}, gen_server:call(vigil_watchdog, info, 50)),
    ?assertEqual(killed, receive {'DOWN', Ref, process, Pid, Why} -> Why after 1000 -> alive end),
    {log, error, Text} = await_log(error, <<"hanging_check/0">>),
    ?assertNotEqual(nomatch, binary:match(Text, <<"no answer within 30 ms">>)),
    _ = recv_all(R),
    no_datagram_for(R, ?INTERVAL * 2).

trigger_after_consecutive_failures(R) ->
    ?assertEqual({ok, <<"WATCHDOG=trigger">>}, recv(R, 1000)),
    _ = await_log(error, <<"WATCHDOG=trigger">>),
    assert_no_ping_since_ready().

passing_checks_ping(R) ->
    set_healthy(ok),
    assert_interval(?INTERVAL, ping_times(R, 4)),
    #{longest_check := Longest, recommended_watchdog_sec := Rec} = vigil:watchdog_info(),
    ?assert(Longest > 0),
    %% The 1000 ms default check timeout must fit: 3 x 1 s / (1 - 0.5) = 6 s at least.
    ?assert(Rec >= 6).

expiring_failure_logged_past_the_rate_limit(R) ->
    set_healthy(ok),
    _ = ping_times(R, 2),
    set_healthy({error, unreachable}),
    %% The first failure: a warning, which silences the next ones for 30 s.
    {log, warning, First} = await_log(warning, <<"database">>),
    ?assertEqual(nomatch, binary:match(First, <<"will expire">>)),
    %% The third: an error all the same, naming the check and why, and the status line.
    {log, error, Fatal} = await_log(error, <<"database">>),
    ?assertNotEqual(nomatch, binary:match(Fatal, <<"returned {error,unreachable}">>)),
    ?assertNotEqual(nomatch, binary:match(Fatal, <<"watchdog will expire">>)),
    ?assertNotEqual(nomatch, binary:match(Fatal, <<"timeout is 400 ms">>)),
    ?assertNotEqual(nomatch, binary:match(Fatal, <<"(3 skipped in a row)">>)),
    ?assertEqual([], [T || {log, L, T} <- flush_mailbox(), L =:= warning orelse L =:= error]),
    ?assertEqual({ok, <<"STATUS=watchdog: health check database failed: "
                        "returned {error,unreachable}">>}, recv(R, 1000)),
    %% Once in a run of failures.
    no_datagram_for(R, ?INTERVAL * 3),
    ?assertEqual([], [T || {log, error, T} <- flush_mailbox()]),
    set_healthy(ok),
    _ = await_log(notice, <<"pass again">>),
    set_healthy({error, down}),
    {log, error, Again} = await_log(error, <<"database">>),
    ?assertNotEqual(nomatch, binary:match(Again, <<"returned {error,down}">>)).

raising_check() ->
    error(disk_on_fire).

hanging_check() ->
    ?MODULE ! {hanging, self()},
    timer:sleep(infinity).

flush_mailbox() ->
    receive M -> [M | flush_mailbox()] after 0 -> [] end.

%% ---- the histogram behind the lateness figures ----

histogram_test() ->
    H = lists:foldl(fun vigil_histogram:add/2, vigil_histogram:new(), lists:seq(1, 1000)),
    ?assertEqual(1000, vigil_histogram:count(H)),
    ?assertEqual(1000, vigil_histogram:max(H)),
    P50 = vigil_histogram:percentile(50, H),
    P99 = vigil_histogram:percentile(99, H),
    ?assert(P50 >= 500 andalso P50 =< 500 * 1.07, P50),
    ?assert(P99 >= 990 andalso P99 =< 1000, P99),
    ?assertEqual(0, vigil_histogram:percentile(99, vigil_histogram:new())),
    Small = lists:foldl(fun vigil_histogram:add/2, vigil_histogram:new(), [3, 3, 3, 7]),
    ?assertEqual(3, vigil_histogram:percentile(50, Small)),
    ?assertEqual(7, vigil_histogram:percentile(99, Small)).
