%% The service lifecycle in a BEAM of its own, started by the test as systemd starts a release:
%% an `erl' OS process with NOTIFY_SOCKET (and WATCHDOG_USEC) in its environment, whose
%% applications start during its boot (from -eval, before init reports `started'). The test
%% reads every datagram the node sends to a real AF_UNIX receiver, and the node's exit status.
%%
%% The node runs a demo application that depends on vigil. Its tree is built from the `children'
%% of its environment (a status child and a readiness child by default); its stop/1 sends
%% X_DEMO_STOPPED=1, so the test sees when it stopped. Once the boot is over, the node does what
%% `then' says: stop, restart once, reboot, or nothing (the test sends it a signal).
-module(vigil_lifecycle_tests).
-behaviour(application).
-behaviour(supervisor).

-include_lib("eunit/include/eunit.hrl").

-compile([export_all, nowarn_export_all]).

-import(vigil_test_receiver, [recv/2]).

-define(AUTO_READY, <<"READY=1\nSTATUS=ready (READY=1 sent by vigil at the end of boot)">>).

%% ---- the demo application, run on the node ----

start(_Type, _Args) ->
    supervisor:start_link(?MODULE, demo).

stop(_State) ->
    timer:sleep(application:get_env(vigil_demo, drain_ms, 0)),
    ok = vigil:notify([{"X_DEMO_STOPPED", "1"}]).

init(demo) ->
    Children = [child(C) || C <- application:get_env(vigil_demo, children, [status, ready])],
    {ok, {#{strategy => one_for_one}, Children}}.

child(status) ->
    vigil:status_spec(#{up => "serving", down => "draining"});
child(ready) ->
    vigil:ready_spec(#{status => "ready"});
child({slow, Ms}) ->
    #{id => {slow, Ms}, start => {?MODULE, slow_start, [Ms]}};
child(worker) ->
    #{id => worker, start => {?MODULE, worker_start, []}}.

slow_start(Ms) ->
    timer:sleep(Ms),
    ignore.

worker_start() ->
    Pid = spawn_link(fun() -> receive stop -> ok end end),
    register(vigil_demo_worker, Pid),
    {ok, Pid}.

%% A health check that needs the demo's worker, as a real check needs the application's
%% processes. The first time it runs it says so: X_CHECK=1.
demo_check() ->
    true = is_pid(whereis(vigil_demo_worker)),
    case persistent_term:get({?MODULE, checked}, false) of
        true -> ok;
        false -> persistent_term:put({?MODULE, checked}, true), vigil:notify([{"X_CHECK", "1"}])
    end.

demo_app() ->
    {application, vigil_demo,
     [{description, "an application under vigil"}, {vsn, "1"}, {modules, [?MODULE]},
      {registered, []}, {applications, [kernel, stdlib, vigil]}, {mod, {?MODULE, []}}]}.

%% Run by SIGHUP on the node.
peer_reload() ->
    vigil:notify([{"X_RELOADED", "1"}]).

previous_shutdown_func(Reason) ->
    vigil:notify([{"X_PREVIOUS", atom_to_list(Reason)}]).

%% The node's -eval: start the applications during the boot, then act once it is over.
node_boot(#{vigil := VigilEnv, demo := DemoEnv, then := Then} = Opts) ->
    ok = application:load(vigil),
    %% No watchdog summary in the journal of the machine that runs the tests, unless asked.
    [ok = application:set_env(vigil, K, V)
     || {K, V} <- [{watchdog_summary_interval, false} | VigilEnv]],
    case maps:get(previous_shutdown_func, Opts, false) of
        true -> application:set_env(kernel, shutdown_func, {?MODULE, previous_shutdown_func});
        false -> ok
    end,
    ok = application:load(demo_app()),
    [ok = application:set_env(vigil_demo, K, V) || {K, V} <- DemoEnv],
    case maps:get(late, Opts, false) of
        false ->
            {ok, _} = application:ensure_all_started(vigil_demo),
            _ = spawn(fun() -> then(Then) end);
        true ->
            %% The applications start after the boot, as from a remote shell.
            _ = spawn(fun() ->
                              wait_booted(),
                              {ok, _} = application:ensure_all_started(vigil_demo),
                              then(Then)
                      end)
    end,
    ok.

then(Then) ->
    wait_booted(),
    timer:sleep(300),
    case Then of
        stop -> init:stop();
        {stop, Status} -> init:stop(Status);
        reboot -> init:reboot();
        restart_once ->
            case os:getenv("VIGIL_TEST_RESTARTED") of
                false -> os:putenv("VIGIL_TEST_RESTARTED", "1"), init:restart();
                _ -> init:stop()
            end;
        {timeout_then_restart, Ms} ->
            case os:getenv("VIGIL_TEST_RESTARTED") of
                false ->
                    ok = vigil:watchdog_timeout(Ms),
                    os:putenv("VIGIL_TEST_RESTARTED", "1"),
                    init:restart();
                _ ->
                    timer:sleep(1000),
                    init:stop()
            end;
        wait -> ok
    end.

wait_booted() ->
    case init:get_status() of
        {started, _} -> ok;
        _ -> timer:sleep(20), wait_booted()
    end.

%% ---- the test's side ----

%% Start a node. Options: vigil (its environment), demo (the demo's), then, os_env (more
%% variables), previous_shutdown_func.
start_node(R, Opts) ->
    Paths = lists:usort([filename:dirname(code:which(M)) || M <- [vigil, ?MODULE]]),
    Boot = #{vigil => maps:get(vigil, Opts, []), demo => maps:get(demo, Opts, []),
             then => maps:get(then, Opts, stop),
             previous_shutdown_func => maps:get(previous_shutdown_func, Opts, false),
             late => maps:get(late, Opts, false)},
    Eval = lists:flatten(io_lib:format("~p:node_boot(~0p).", [?MODULE, Boot])),
    Env = [{"NOTIFY_SOCKET", binary_to_list(vigil_test_receiver:address(R))},
           {"VIGIL_TEST_RESTARTED", false} | maps:get(os_env, Opts, [])],
    Port = open_port({spawn_executable, os:find_executable("erl")},
                     [{args, ["-noshell" | lists:append([["-pa", P] || P <- Paths])]
                             ++ ["-eval", Eval]},
                      {env, Env}, exit_status, stderr_to_stdout, binary]),
    {os_pid, OsPid} = erlang:port_info(Port, os_pid),
    #{port => Port, os_pid => OsPid, r => R}.

%% Datagrams, with the time they arrived, up to and including the first that `Match' accepts.
datagrams_until(Node, Match) ->
    datagrams_until(Node, Match, erlang:monotonic_time(millisecond) + 15000, []).

datagrams_until(#{r := R} = Node, Match, Deadline, Acc) ->
    case recv(R, 100) of
        {ok, D} ->
            Acc1 = [{erlang:monotonic_time(millisecond), D} | Acc],
            case Match(D) of
                true -> lists:reverse(Acc1);
                false -> datagrams_until(Node, Match, Deadline, Acc1)
            end;
        {error, timeout} ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> error({no_such_datagram, lists:reverse(Acc), output(Node)});
                false -> datagrams_until(Node, Match, Deadline, Acc)
            end
    end.

%% Every datagram until the node has exited, and its exit status.
until_exit(Node) ->
    until_exit(Node, erlang:monotonic_time(millisecond) + 20000, []).

until_exit(#{port := Port, r := R} = Node, Deadline, Acc) ->
    case recv(R, 50) of
        {ok, D} ->
            until_exit(Node, Deadline, [{erlang:monotonic_time(millisecond), D} | Acc]);
        {error, timeout} ->
            receive
                {Port, {exit_status, Status}} ->
                    Rest = [{erlang:monotonic_time(millisecond), D}
                            || D <- vigil_test_receiver:recv_all(R)],
                    {lists:reverse(Acc) ++ Rest, Status}
            after 0 ->
                case erlang:monotonic_time(millisecond) > Deadline of
                    true -> error({still_running, lists:reverse(Acc), output(Node)});
                    false -> until_exit(Node, Deadline, Acc)
                end
            end
    end.

%% What the node has written so far (its log).
output(#{port := Port}) ->
    output(Port, []).

output(Port, Acc) ->
    receive {Port, {data, Data}} -> output(Port, [Acc, Data])
    after 0 -> iolist_to_binary(Acc)
    end.

signal(#{os_pid := OsPid}, Signal) ->
    _ = os:cmd(io_lib:format("kill -~s ~b", [Signal, OsPid])),
    ok.

bytes(Timed) -> [D || {_, D} <- Timed].

no_pings(Datagrams) -> [D || D <- Datagrams, D =/= <<"WATCHDOG=1">>].

is(Bytes) -> fun(D) -> D =:= Bytes end.

starts(Prefix) ->
    fun(D) -> binary:longest_common_prefix([D, Prefix]) =:= byte_size(Prefix) end.

%% The longest time between two pings, from the first ping to the last.
longest_ping_gap(Timed) ->
    Times = [T || {T, <<"WATCHDOG=1">>} <- Timed],
    lists:max([0 | [B - A || {A, B} <- lists:zip(lists:droplast(Times), tl(Times))]]).

expected_lifecycle() ->
    [<<"STATUS=serving">>,
     <<"READY=1\nSTATUS=ready">>,
     <<"STOPPING=1\nSTATUS=stopping">>,
     <<"STATUS=draining">>,
     <<"X_DEMO_STOPPED=1">>].

with_receiver(Title, Test) ->
    {Title, {setup,
     fun() -> vigil_test_receiver:open(path) end,
     fun vigil_test_receiver:close/1,
     fun(R) -> {timeout, 60, fun() -> Test(R) end} end}}.

occurrences(Text, Pattern) ->
    length(binary:matches(Text, Pattern)).

%% ---- tests: stopping ----

init_stop_order_test_() ->
    with_receiver(
      "init:stop/0: STOPPING before the applications stop, exit status 0",
      fun(R) ->
              {Datagrams, Status} = until_exit(start_node(R, #{then => stop})),
              ?assertEqual(expected_lifecycle(), bytes(Datagrams)),
              ?assertEqual(0, Status)
      end).

sigterm_order_test_() ->
    with_receiver(
      "SIGTERM: STOPPING before the applications stop, exit status 0",
      fun(R) ->
              Node = start_node(R, #{vigil => [{stopping_status, "stopping on SIGTERM"}],
                                     then => wait}),
              Booted = datagrams_until(Node, starts(<<"READY=1">>)),
              ok = signal(Node, "TERM"),
              {Datagrams, Status} = until_exit(Node),
              Expected = [case D of
                              <<"STOPPING=1\n", _/binary>> ->
                                  <<"STOPPING=1\nSTATUS=stopping on SIGTERM">>;
                              _ ->
                                  D
                          end || D <- expected_lifecycle()],
              ?assertEqual(Expected, bytes(Booted ++ Datagrams)),
              ?assertEqual(0, Status)
      end).

%% A ping after STOPPING=1 would arm the manager's watchdog again during the drain, and a drain
%% longer than WatchdogSec= would end in SIGABRT.
no_watchdog_ping_after_stopping_test_() ->
    with_receiver(
      "no watchdog ping after STOPPING, however long the drain",
      fun(R) ->
              Node = start_node(R, #{os_env => [{"WATCHDOG_USEC", "100000"}],
                                     demo => [{drain_ms, 400}]}),
              {Datagrams, 0} = until_exit(Node),
              ?assert(lists:member(<<"WATCHDOG=1">>, bytes(Datagrams))),
              AfterStopping = lists:dropwhile(fun(D) -> D =/= <<"STOPPING=1\nSTATUS=stopping">>
                                              end, bytes(Datagrams)),
              ?assertEqual([<<"STOPPING=1\nSTATUS=stopping">>, <<"STATUS=draining">>,
                            <<"X_DEMO_STOPPED=1">>], AfterStopping)
      end).

%% A shutdown_func set before is still called, after STOPPING.
previous_shutdown_func_test_() ->
    with_receiver(
      "a shutdown_func set before is still called",
      fun(R) ->
              Node = start_node(R, #{previous_shutdown_func => true}),
              {Datagrams, 0} = until_exit(Node),
              ?assertEqual([<<"STATUS=serving">>, <<"READY=1\nSTATUS=ready">>,
                            <<"STOPPING=1\nSTATUS=stopping">>, <<"X_PREVIOUS=shutdown">>,
                            <<"STATUS=draining">>, <<"X_DEMO_STOPPED=1">>], bytes(Datagrams))
      end).

%% ---- tests: SIGHUP ----

sighup_reloads_test_() ->
    with_receiver(
      "SIGHUP reloads with RELOADING and READY",
      fun(R) ->
              Node = start_node(R, #{vigil => [{sighup, {?MODULE, peer_reload, []}}],
                                     then => wait}),
              ?assertEqual([<<"STATUS=serving">>, <<"READY=1\nSTATUS=ready">>],
                           bytes(datagrams_until(Node, starts(<<"READY=1">>)))),
              ok = signal(Node, "HUP"),
              [{_, Reloading} | Rest] = datagrams_until(Node, is(<<"READY=1">>)),
              ?assertMatch(<<"RELOADING=1\nMONOTONIC_USEC=", _/binary>>, Reloading),
              ?assertEqual([<<"X_RELOADED=1">>, <<"READY=1">>], bytes(Rest)),
              %% The node still runs: it stops on SIGTERM, in order.
              ok = signal(Node, "TERM"),
              {Datagrams, Status} = until_exit(Node),
              ?assertEqual(lists:nthtail(2, expected_lifecycle()), bytes(Datagrams)),
              ?assertEqual(0, Status)
      end).

sighup_ignored_test_() ->
    with_receiver(
      "sighup => ignore keeps the node up",
      fun(R) ->
              Node = start_node(R, #{vigil => [{sighup, ignore}], then => wait}),
              Booted = datagrams_until(Node, starts(<<"READY=1">>)),
              ok = signal(Node, "HUP"),
              timer:sleep(300),
              ok = signal(Node, "TERM"),
              {Datagrams, Status} = until_exit(Node),
              ?assertEqual(expected_lifecycle(), bytes(Booted ++ Datagrams)),
              ?assertEqual(0, Status)
      end).

%% ---- tests: READY=1 at the end of boot ----

auto_ready_without_child_test_() ->
    with_receiver(
      "no Ready child: READY=1 at the end of boot, with a status saying so",
      fun(R) ->
              %% The status comes after a slow child: READY=1 after it is after the tree.
              Node = start_node(R, #{demo => [{children, [{slow, 300}, status]}]}),
              {Datagrams, 0} = until_exit(Node),
              ?assertEqual([<<"STATUS=serving">>, ?AUTO_READY | tl(tl(expected_lifecycle()))],
                           bytes(Datagrams))
      end).

ready_child_wins_test_() ->
    with_receiver(
      "a Ready child after slow children: exactly one READY=1, the child's",
      fun(R) ->
              Node = start_node(R, #{demo => [{children, [status, {slow, 500}, ready]}]}),
              {Datagrams, 0} = until_exit(Node),
              ?assertEqual(expected_lifecycle(), bytes(Datagrams)),
              ?assertEqual(1, length([D || D <- bytes(Datagrams), (starts(<<"READY=1">>))(D)]))
      end).

manual_ready_warns_test_() ->
    with_receiver(
      "ready => manual and no Ready child: no READY=1, one warning",
      fun(R) ->
              Node = start_node(R, #{vigil => [{ready, manual}],
                                     demo => [{children, [status]}]}),
              {Datagrams, 0} = until_exit(Node),
              ?assertEqual([<<"STATUS=serving">> | tl(tl(expected_lifecycle()))],
                           bytes(Datagrams)),
              Output = output(Node),
              ?assertEqual(1, occurrences(Output, <<"READY=1 has not been sent">>)),
              ?assertEqual(1, occurrences(Output, <<"Vigil.Ready">>)),
              ?assertEqual(1, occurrences(Output, <<"vigil:ready_spec/1">>))
      end).

manual_ready_with_child_test_() ->
    with_receiver(
      "ready => manual with a Ready child: the child's READY=1, no warning",
      fun(R) ->
              Node = start_node(R, #{vigil => [{ready, manual}]}),
              {Datagrams, 0} = until_exit(Node),
              ?assertEqual(expected_lifecycle(), bytes(Datagrams)),
              ?assertEqual(0, occurrences(output(Node), <<"has not been sent">>))
      end).

late_start_test_() ->
    with_receiver(
      "vigil started after the boot: the boot is over, READY=1 at once",
      fun(R) ->
              Node = start_node(R, #{late => true, demo => [{children, [status]}]}),
              {Datagrams, 0} = until_exit(Node),
              ?assertEqual([?AUTO_READY, <<"STATUS=serving">> | tl(tl(expected_lifecycle()))],
                           bytes(Datagrams))
      end).

%% ---- tests: health checks wait for the application ----

checks_wait_for_boot_test_() ->
    with_receiver(
      "health checks run once the application is up; pings go on during the boot",
      fun(R) ->
              Node = start_node(R, #{os_env => [{"WATCHDOG_USEC", "200000"}],
                                     vigil => [{health_checks, [{?MODULE, demo_check, []}]}],
                                     demo => [{children, [status, {slow, 600}, worker, ready]}]}),
              {Datagrams, 0} = until_exit(Node),
              Bytes = bytes(Datagrams),
              %% Pings all through the boot, none late enough for the manager to act.
              {Boot, [_Ready | _]} = lists:splitwith(fun(D) -> not (starts(<<"READY=1">>))(D) end,
                                                     Bytes),
              ?assert(length([P || <<"WATCHDOG=1">> = P <- Boot]) >= 4, Boot),
              ?assert(longest_ping_gap(Datagrams) < 200, Datagrams),
              %% The check ran after READY=1, and never failed.
              ?assert(lists:member(<<"X_CHECK=1">>, Bytes -- Boot)),
              ?assertNot(lists:member(<<"X_CHECK=1">>, Boot)),
              ?assertEqual(0, occurrences(output(Node), <<"health check">>))
      end).

%% ---- tests: restart in place and reboot ----

restart_test_() ->
    with_receiver(
      "init:restart/0: RELOADING, the applications stop and start again, READY; pings go on",
      fun(R) ->
              %% OTP 25's init:restart/0 takes some 1.3 s between the last application's stop
              %% and the first one's start, without pings: a 3 s timeout leaves room for it.
              Node = start_node(R, #{os_env => [{"WATCHDOG_USEC", "3000000"}],
                                     vigil => [{watchdog_fraction, 0.1}],
                                     demo => [{drain_ms, 3500}], then => restart_once}),
              {Datagrams, Status} = until_exit(Node),
              [Reloading] = [D || <<"RELOADING=1\n", _/binary>> = D <- bytes(Datagrams)],
              ?assertMatch([<<"RELOADING=1">>, <<"MONOTONIC_USEC=", _/binary>>,
                            <<"STATUS=restarting">>],
                           binary:split(Reloading, <<"\n">>, [global])),
              ?assertEqual([<<"STATUS=serving">>, <<"READY=1\nSTATUS=ready">>,
                            Reloading, <<"STATUS=draining">>, <<"X_DEMO_STOPPED=1">>,
                            <<"STATUS=serving">>, <<"READY=1\nSTATUS=ready">>
                            | tl(tl(expected_lifecycle()))],
                           no_pings(bytes(Datagrams))),
              ?assertEqual(0, Status),
              %% The drain is longer than the manager's timeout: the pings did not stop.
              {UpToStopping, _} = lists:splitwith(
                                    fun({_, D}) -> D =/= <<"STOPPING=1\nSTATUS=stopping">> end,
                                    Datagrams),
              ?assert(longest_ping_gap(UpToStopping) < 3000, UpToStopping),
              %% Pings during the drain, longer than the timeout.
              {_, Draining} = lists:splitwith(fun({_, D}) -> D =/= <<"STATUS=draining">> end,
                                              UpToStopping),
              {Drain, _} = lists:splitwith(fun({_, D}) -> D =/= <<"X_DEMO_STOPPED=1">> end,
                                           Draining),
              ?assert(length([P || {_, <<"WATCHDOG=1">> = P} <- Drain]) >= 5, Drain)
      end).

restart_auto_ready_test_() ->
    with_receiver(
      "init:restart/0 without a Ready child: READY=1 at the end of the second boot",
      fun(R) ->
              Node = start_node(R, #{demo => [{children, [status]}], then => restart_once}),
              {Datagrams, 0} = until_exit(Node),
              ?assertMatch([<<"STATUS=serving">>, ?AUTO_READY,
                            <<"RELOADING=1\nMONOTONIC_USEC=", _/binary>>,
                            <<"STATUS=draining">>, <<"X_DEMO_STOPPED=1">>,
                            <<"STATUS=serving">>, ?AUTO_READY,
                            <<"STOPPING=1\nSTATUS=stopping">>, <<"STATUS=draining">>,
                            <<"X_DEMO_STOPPED=1">>],
                           bytes(Datagrams))
      end).

restart_keeps_changed_timeout_test_() ->
    with_receiver(
      "init:restart/0 after watchdog_timeout/1: the restarted node pings at the new interval",
      fun(R) ->
              Node = start_node(R, #{os_env => [{"WATCHDOG_USEC", "3000000"}],
                                     then => {timeout_then_restart, 400}}),
              {Datagrams, 0} = until_exit(Node),
              Bytes = bytes(Datagrams),
              ?assert(lists:member(<<"WATCHDOG_USEC=400000">>, Bytes)),
              %% From the second READY=1 to STOPPING=1: a ping every 200 ms.
              IsReady = fun({_, D}) -> not (starts(<<"READY=1">>))(D) end,
              AfterFirst = tl(lists:dropwhile(IsReady, Datagrams)),
              AfterSecond = tl(lists:dropwhile(IsReady, AfterFirst)),
              {SecondBoot, _} = lists:splitwith(
                                  fun({_, D}) -> not (starts(<<"STOPPING=1">>))(D) end,
                                  AfterSecond),
              ?assert(length([P || {_, <<"WATCHDOG=1">> = P} <- SecondBoot]) >= 4, SecondBoot),
              ?assert(longest_ping_gap(SecondBoot) < 300, SecondBoot)
      end).

reboot_test_() ->
    with_receiver(
      "init:reboot/0 without heart: STOPPING, the applications stop, exit status 75",
      fun(R) ->
              Node = start_node(R, #{then => reboot}),
              {Datagrams, Status} = until_exit(Node),
              ?assertEqual([<<"STATUS=serving">>, <<"READY=1\nSTATUS=ready">>,
                            <<"STOPPING=1\nSTATUS=rebooting">>, <<"STATUS=draining">>,
                            <<"X_DEMO_STOPPED=1">>],
                           bytes(Datagrams)),
              ?assertEqual(vigil_lifecycle:reboot_exit_status(), Status),
              ?assertEqual(75, Status)
      end).

stop_with_status_test_() ->
    with_receiver(
      "init:stop(3): a stop, with its exit status",
      fun(R) ->
              Node = start_node(R, #{then => {stop, 3}}),
              {Datagrams, Status} = until_exit(Node),
              ?assertEqual(expected_lifecycle(), bytes(Datagrams)),
              ?assertEqual(3, Status)
      end).

%% What init was asked, as the shutdown hook reads it.
init_request_test() ->
    ?assertEqual(stop, vigil_lifecycle:init_request()).
