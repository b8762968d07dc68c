%% The watchdog's summary entry, read by a real AF_UNIX datagram receiver standing in for
%% journald (vigil_journal_tests' receiver, which parses entries as journald-native.c does),
%% while another stands in for the manager. WATCHDOG_USEC is 200 ms: a ping every 100 ms.
-module(vigil_watchdog_summary_tests).

-include_lib("eunit/include/eunit.hrl").

-compile([export_all, nowarn_export_all]).

-import(vigil_journal_tests, [field/2]).

-define(USEC, "200000").
%% The id documented in vigil's edoc and the README, which operators put in their queries.
-define(MESSAGE_ID, <<"7ae7a1b7f796442bb549d9dfeacc97af">>).
-define(ENV_KEYS, [journal_socket, watchdog_summary_interval, health_checks]).

%% ---- fixtures ----

%% The application started under a manager (`Vars': WATCHDOG_USEC, ...) with its summary
%% going to a journal receiver; `Env' may override the interval (default: only on request and
%% at shutdown) and the socket.
with(Vars, Env, Tests) ->
    {foreach,
     fun() -> setup(Vars, Env) end,
     fun cleanup/1,
     [fun(Ctx) -> {atom_to_list(Name), {timeout, 20, fun() -> ?MODULE:Name(Ctx) end}} end
      || Name <- Tests]}.

setup(Vars, Env) ->
    Notify = vigil_test_receiver:open(path),
    Journal = vigil_journal_tests:open_receiver(),
    _ = application:stop(vigil),
    _ = application:load(vigil),
    Defaults = [{journal_socket, maps:get(path, Journal)}, {watchdog_summary_interval, infinity}],
    [ok = application:set_env(vigil, K, V) || {K, V} <- Defaults ++ Env],
    vigil_test_receiver:start_vigil_with(
      [{"NOTIFY_SOCKET", binary_to_list(vigil_test_receiver:address(Notify))} | Vars]),
    %% The health checks run once the application is up.
    ok = vigil:ready(),
    #{notify => Notify, journal => Journal}.

%% vigil stops first, so that its shutdown entry reaches the receiver, not logger.
cleanup(#{notify := Notify, journal := Journal}) ->
    _ = application:stop(vigil),
    [application:unset_env(vigil, K) || K <- ?ENV_KEYS],
    vigil_test_receiver:close(Notify),
    vigil_journal_tests:close_receiver(Journal),
    vigil_test_receiver:start_vigil_without_manager().

%% ---- helpers ----

%% The next `N' pings the manager receives, other datagrams (READY=1) skipped.
await_pings(_R, 0) ->
    ok;
await_pings(R, N) ->
    case vigil_test_receiver:recv(R, 1000) of
        {ok, <<"WATCHDOG=1">>} -> await_pings(R, N - 1);
        {ok, _Other} -> await_pings(R, N)
    end.

entry(#{journal := J}) ->
    {ok, E} = vigil_journal_tests:recv_entry(J, 2000),
    E.

no_entry(#{journal := J}, Ms) ->
    ?assertEqual(timeout, vigil_journal_tests:recv_entry(J, Ms)).

int(Key, E) ->
    Value = field(<<"VIGIL_WATCHDOG_", Key/binary>>, E),
    ?assertMatch({match, _}, re:run(Value, "^(0|[1-9][0-9]*)$"), {Key, Value}),
    binary_to_integer(Value).

reason(E) ->
    field(<<"VIGIL_WATCHDOG_REASON">>, E).

%% What the measurements support (recommended_sec/1): three times the worst delay before a
%% ping (timer lateness plus the longest a round of checks may take) fits in the part of the
%% timeout after the interval, at the default fraction 0.5.
assert_recommendation_covers(E) ->
    CheckBound = max(int(<<"LONGEST_CHECK_US">>, E), int(<<"CHECK_TIMEOUT_MS">>, E) * 1000),
    Worst = int(<<"LATENESS_MAX_US">>, E) + CheckBound,
    Recommended = int(<<"RECOMMENDED_SEC">>, E),
    ?assert(Recommended >= 1),
    ?assert(Recommended * 1000000 * (1 - 0.5) >= 3 * Worst, {Recommended, Worst}).

slow_check() ->
    timer:sleep(3),
    ok.

%% Logs that this module provokes stay out of the test's output.
quiet(Fun) ->
    Filter = {fun(_Event, _) -> stop end, []},
    _ = logger:add_handler_filter(default, ?MODULE, Filter),
    try Fun() after logger:remove_handler_filter(default, ?MODULE) end.

%% ---- suites ----

requested_test_() ->
    Check = #{check => fun ?MODULE:slow_check/0, name => <<"db">>, timeout => 300},
    with([{"WATCHDOG_USEC", ?USEC}], [{health_checks, [Check]}],
         [fields_after_pings, summary_interval_false_still_on_request]).

shutdown_test_() ->
    with([{"WATCHDOG_USEC", ?USEC}], [], [shutdown_entry_on_application_stop]).

periodic_test_() ->
    with([{"WATCHDOG_USEC", ?USEC}], [{watchdog_summary_interval, 150}], [periodic_entries]).

off_test_() ->
    with([{"WATCHDOG_USEC", ?USEC}], [{watchdog_summary_interval, false}],
         [interval_false_writes_no_shutdown_entry]).

no_watchdog_test_() ->
    [with([], [{watchdog_summary_interval, 100}], [no_entry_without_watchdog]),
     with([{"WATCHDOG_USEC", ?USEC}, {"WATCHDOG_PID", "1"}], [{watchdog_summary_interval, 100}],
          [no_entry_for_another_process])].

fallback_test_() ->
    with([{"WATCHDOG_USEC", ?USEC}], [], [logger_without_journald]).

%% ---- tests ----

fields_after_pings(#{notify := N} = Ctx) ->
    ok = await_pings(N, 5),
    %% Frozen, so that the entry and watchdog_info/0 describe the same moment.
    ok = vigil:watchdog(disable),
    Info = vigil:watchdog_info(),
    ?assertEqual(ok, vigil:watchdog_summary()),
    E = entry(Ctx),
    Keys = [K || {K, _} <- E],
    [?assert(vigil_journal_tests:valid_key(K), K) || K <- Keys],
    ?assertEqual(lists:usort(Keys), lists:sort(Keys)),
    ?assertEqual(?MESSAGE_ID, field(<<"MESSAGE_ID">>, E)),
    ?assertEqual(?MESSAGE_ID, vigil_watchdog_summary:message_id()),
    ?assertEqual(<<"5">>, field(<<"PRIORITY">>, E)),
    ?assertEqual(vigil_journal_h:default_identifier(), field(<<"SYSLOG_IDENTIFIER">>, E)),
    ?assertEqual(<<"requested">>, reason(E)),
    #{pings := Pings, lateness := #{p50 := P50, p99 := P99, max := Max},
      longest_check := Longest, recommended_watchdog_sec := Recommended,
      last_ping_age := Age} = Info,
    ?assert(Pings >= 5),
    ?assertEqual(Pings, int(<<"PINGS">>, E)),
    ?assertEqual(0, int(<<"SKIPPED">>, E)),
    ?assertEqual(0, int(<<"SEND_ERRORS">>, E)),
    ?assert(int(<<"TICKS">>, E) >= Pings),
    ?assertEqual([P50, P99, Max], [int(<<"LATENESS_P50_US">>, E), int(<<"LATENESS_P99_US">>, E),
                                   int(<<"LATENESS_MAX_US">>, E)]),
    ?assert(P50 =< P99 andalso P99 =< Max),
    %% The check sleeps 3 ms.
    ?assertEqual(Longest, int(<<"LONGEST_CHECK_US">>, E)),
    ?assert(Longest >= 3000),
    ?assertEqual(1, int(<<"HEALTH_CHECKS">>, E)),
    ?assertEqual(300, int(<<"CHECK_TIMEOUT_MS">>, E)),
    ?assertEqual(100000, int(<<"INTERVAL_US">>, E)),
    ?assertEqual(200000, int(<<"USEC">>, E)),
    ?assertEqual(Recommended, int(<<"RECOMMENDED_SEC">>, E)),
    %% The 300 ms check timeout alone asks for 3 x 0.3 s / (1 - 0.5) = 1.8 s.
    ?assert(Recommended >= 2),
    assert_recommendation_covers(E),
    ?assert(int(<<"UPTIME_SEC">>, E) =< 2),
    ?assert(int(<<"LAST_PING_AGE_MS">>, E) >= Age),
    ?assert(int(<<"LAST_PING_AGE_MS">>, E) < 1000),
    ?assertEqual(0, int(<<"ENABLED">>, E)),
    Message = field(<<"MESSAGE">>, E),
    {match, [P, Up, Rec]} =
        re:run(Message, "^watchdog: ([0-9]+) pings in ([0-9]+) s, 0 skipped, "
                        "lateness p50 [0-9.]+ ms p99 [0-9.]+ ms max [0-9.]+ ms, "
                        "longest health check [0-9.]+ ms; "
                        "recommended WatchdogSec=([0-9]+)s \\(now 0.2s\\)$",
               [{capture, all_but_first, binary}]),
    ?assertEqual([Pings, int(<<"UPTIME_SEC">>, E), Recommended],
                 [binary_to_integer(B) || B <- [P, Up, Rec]]),
    %% One entry per request.
    no_entry(Ctx, 300).

summary_interval_false_still_on_request(Ctx) ->
    ok = application:stop(vigil),
    _ = entry(Ctx),
    ok = application:set_env(vigil, watchdog_summary_interval, false),
    ok = application:start(vigil),
    ?assertEqual(ok, vigil:watchdog_summary()),
    ?assertEqual(<<"requested">>, reason(entry(Ctx))).

%% The supervisor's shutdown reaches terminate/2, which still has the counts.
shutdown_entry_on_application_stop(#{notify := N} = Ctx) ->
    ok = await_pings(N, 3),
    ok = application:stop(vigil),
    Pings = length([D || D <- vigil_test_receiver:recv_all(N), D =:= <<"WATCHDOG=1">>]),
    E = entry(Ctx),
    ?assertEqual(<<"shutdown">>, reason(E)),
    ?assert(int(<<"PINGS">>, E) >= 3 + Pings),
    ?assertEqual(1, int(<<"ENABLED">>, E)),
    ?assertEqual(0, int(<<"HEALTH_CHECKS">>, E)),
    ?assertNotEqual(nomatch, binary:match(field(<<"MESSAGE">>, E), <<"no health checks">>)),
    assert_recommendation_covers(E),
    no_entry(Ctx, 100).

periodic_entries(Ctx) ->
    Entries = [{erlang:monotonic_time(millisecond), entry(Ctx)} || _ <- lists:seq(1, 4)],
    ?assertEqual([<<"periodic">>], lists:usort([reason(E) || {_, E} <- Entries])),
    Times = [T || {T, _} <- Entries],
    Gaps = [B - A || {A, B} <- lists:zip(lists:droplast(Times), tl(Times))],
    [?assert(G >= 100 andalso G =< 250, {gaps, Gaps}) || G <- Gaps],
    Pings = [int(<<"PINGS">>, E) || {_, E} <- Entries],
    ?assertEqual(lists:sort(Pings), Pings),
    ?assert(lists:last(Pings) > hd(Pings), Pings).

interval_false_writes_no_shutdown_entry(#{notify := N} = Ctx) ->
    ok = await_pings(N, 2),
    no_entry(Ctx, 200),
    ok = application:stop(vigil),
    no_entry(Ctx, 200).

no_entry_without_watchdog(Ctx) ->
    ?assertMatch(#{active := false, timeout := undefined}, vigil:watchdog_info()),
    ?assertEqual({error, no_watchdog}, vigil:watchdog_summary()),
    no_entry(Ctx, 300),
    ok = application:stop(vigil),
    no_entry(Ctx, 100).

no_entry_for_another_process(Ctx) ->
    ?assertMatch(#{pid_mismatch := true}, vigil:watchdog_info()),
    ?assertEqual({error, no_watchdog}, vigil:watchdog_summary()),
    no_entry(Ctx, 300),
    quiet(fun() -> ok = application:stop(vigil) end),
    no_entry(Ctx, 100).

%% journald stopped (its socket is there, nobody reads it), then gone: the same message goes
%% through logger at notice, with the numbers as metadata. vigil_journal_h, pointed at another
%% receiver, turns them into the entry's own field names.
logger_without_journald(#{notify := N, journal := J}) ->
    ok = await_pings(N, 2),
    Handler = vigil_journal_tests:open_receiver(),
    HandlerConfig = #{config => #{socket_path => maps:get(path, Handler)},
                      filter_default => stop,
                      filters => [{summary, {fun only_summaries/2, []}}]},
    ok = logger:add_handler(summary_test, vigil_journal_h, HandlerConfig),
    try
        quiet(fun() ->
                      %% Closed without removing the file: ECONNREFUSED.
                      ok = socket:close(maps:get(socket, J)),
                      ?assertEqual(ok, vigil:watchdog_summary()),
                      %% Gone: ENOENT.
                      ok = file:delete(maps:get(path, J)),
                      ?assertEqual(ok, vigil:watchdog_summary())
              end),
        [First, Second] = [entry(#{journal => Handler}) || _ <- [1, 2]],
        [begin
             ?assertEqual(<<"5">>, field(<<"PRIORITY">>, E)),
             ?assertEqual(?MESSAGE_ID, field(<<"MESSAGE_ID">>, E)),
             ?assertEqual(<<"requested">>, reason(E)),
             ?assert(int(<<"PINGS">>, E) >= 2),
             ?assertEqual(200000, int(<<"USEC">>, E)),
             ?assertMatch({match, _}, re:run(field(<<"MESSAGE">>, E),
                                             "^watchdog: [0-9]+ pings in [0-9]+ s, "))
         end || E <- [First, Second]],
        ?assert(int(<<"PINGS">>, Second) >= int(<<"PINGS">>, First))
    after
        %% Its shutdown entry would go through logger too.
        quiet(fun() -> application:stop(vigil) end),
        logger:remove_handler(summary_test),
        vigil_journal_tests:close_receiver(Handler)
    end.

only_summaries(#{meta := #{message_id := ?MESSAGE_ID}} = Event, _) -> Event;
only_summaries(_Event, _) -> stop.

%% ---- the node stops: init:stop/0 ----

%% A node of its own (vigil_lifecycle_tests' demo release), stopped by init:stop/0: the
%% shutdown hook disables the pings at STOPPING=1, the demo application stops, then vigil,
%% whose watchdog writes its entry with every ping it sent.
init_stop_test_() ->
    {setup,
     fun() -> {vigil_test_receiver:open(path), vigil_journal_tests:open_receiver()} end,
     fun({N, J}) -> vigil_test_receiver:close(N), vigil_journal_tests:close_receiver(J) end,
     fun({N, J}) ->
             {timeout, 30,
              fun() ->
                      Node = vigil_lifecycle_tests:start_node(
                               N, #{os_env => [{"WATCHDOG_USEC", "100000"}],
                                    vigil => [{journal_socket, maps:get(path, J)},
                                              {watchdog_summary_interval, infinity}]}),
                      {Datagrams, 0} = vigil_lifecycle_tests:until_exit(Node),
                      Sent = length([D || {_, <<"WATCHDOG=1">> = D} <- Datagrams]),
                      ?assert(Sent >= 3),
                      {ok, E} = vigil_journal_tests:recv_entry(J, 1000),
                      ?assertEqual(<<"shutdown">>, reason(E)),
                      ?assertEqual(Sent, int(<<"PINGS">>, E)),
                      ?assertEqual(0, int(<<"ENABLED">>, E)),
                      ?assertEqual(100000, int(<<"USEC">>, E)),
                      ?assertEqual(?MESSAGE_ID, field(<<"MESSAGE_ID">>, E)),
                      ?assertEqual(timeout, vigil_journal_tests:recv_entry(J, 100))
              end}
     end}.
