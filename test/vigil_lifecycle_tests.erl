%% The service lifecycle on a peer node started by the test, with NOTIFY_SOCKET in its
%% environment: the order of STATUS, READY and STOPPING on init:stop/0 and on SIGTERM, and
%% SIGHUP as a reload.
%%
%% The peer runs a demo application that depends on vigil. Its tree is a status child and a
%% readiness child; its stop/1 sends X_DEMO_STOPPED=1, so the test sees when it stopped.
-module(vigil_lifecycle_tests).
-behaviour(application).
-behaviour(supervisor).

-include_lib("eunit/include/eunit.hrl").

-compile([export_all, nowarn_export_all]).

-import(vigil_test_receiver, [recv/2]).

%% ---- the demo application, run on the peer ----

start(_Type, _Args) ->
    supervisor:start_link(?MODULE, demo).

stop(_State) ->
    timer:sleep(application:get_env(vigil_demo, drain_ms, 0)),
    ok = vigil:notify([{"X_DEMO_STOPPED", "1"}]).

init(demo) ->
    Children = [vigil:status_spec(#{up => "serving", down => "draining"}),
                vigil:ready_spec(#{status => "ready"})],
    {ok, {#{strategy => one_for_one}, Children}}.

demo_app() ->
    {application, vigil_demo,
     [{description, "an application under vigil"}, {vsn, "1"}, {modules, [?MODULE]},
      {registered, []}, {applications, [kernel, stdlib, vigil]}, {mod, {?MODULE, []}}]}.

%% Run by SIGHUP on the peer.
peer_reload() ->
    vigil:notify([{"X_RELOADED", "1"}]).

%% ---- helpers ----

start_peer(R, VigilEnv) ->
    start_peer(R, VigilEnv, [], []).

start_peer(R, VigilEnv, OsEnv, DemoEnv) ->
    Paths = lists:usort([filename:dirname(code:which(M)) || M <- [vigil, ?MODULE]]),
    {ok, Peer, _Node} =
        peer:start(#{connection => standard_io,
                     args => lists:append([["-pa", P] || P <- Paths]),
                     env => [{"NOTIFY_SOCKET", binary_to_list(vigil_test_receiver:address(R))}
                             | OsEnv]}),
    ok = peer:call(Peer, application, load, [vigil]),
    [ok = peer:call(Peer, application, set_env, [vigil, K, V]) || {K, V} <- VigilEnv],
    ok = peer:call(Peer, application, load, [demo_app()]),
    [ok = peer:call(Peer, application, set_env, [vigil_demo, K, V]) || {K, V} <- DemoEnv],
    {ok, _} = peer:call(Peer, application, ensure_all_started, [vigil_demo]),
    Peer.

%% Every datagram until the peer is gone and nothing more arrives.
datagrams_until_down(R, Peer) ->
    Ref = monitor(process, Peer),
    collect(R, Ref, []).

collect(R, Ref, Acc) ->
    case recv(R, 200) of
        {ok, Datagram} ->
            collect(R, Ref, [Datagram | Acc]);
        {error, timeout} ->
            receive
                {'DOWN', Ref, process, _, _} -> lists:reverse(Acc) ++ vigil_test_receiver:recv_all(R)
            after 5000 ->
                error({peer_still_running, lists:reverse(Acc)})
            end
    end.

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
     fun(R) -> {timeout, 30, fun() -> Test(R) end} end}}.

%% ---- tests ----

init_stop_order_test_() ->
    with_receiver(
      "init:stop/0: STOPPING before the applications stop",
      fun(R) ->
              Peer = start_peer(R, []),
              ok = peer:call(Peer, init, stop, []),
              ?assertEqual(expected_lifecycle(), datagrams_until_down(R, Peer))
      end).

sigterm_order_test_() ->
    with_receiver(
      "SIGTERM: STOPPING before the applications stop",
      fun(R) ->
              Peer = start_peer(R, [{stopping_status, "stopping on SIGTERM"}]),
              OsPid = peer:call(Peer, os, getpid, []),
              _ = os:cmd("kill -TERM " ++ OsPid),
              Expected = [case D of
                              <<"STOPPING=1\n", _/binary>> ->
                                  <<"STOPPING=1\nSTATUS=stopping on SIGTERM">>;
                              _ ->
                                  D
                          end || D <- expected_lifecycle()],
              ?assertEqual(Expected, datagrams_until_down(R, Peer))
      end).

%% A ping after STOPPING=1 would arm the manager's watchdog again during the drain, and a drain
%% longer than WatchdogSec= would end in SIGABRT.
no_watchdog_ping_after_stopping_test_() ->
    with_receiver(
      "no watchdog ping after STOPPING, however long the drain",
      fun(R) ->
              Peer = start_peer(R, [], [{"WATCHDOG_USEC", "100000"}], [{drain_ms, 400}]),
              ?assertEqual({ok, <<"WATCHDOG=1">>}, first_ping(R, 20)),
              ok = peer:call(Peer, init, stop, []),
              Datagrams = datagrams_until_down(R, Peer),
              AfterStopping = lists:dropwhile(fun(D) -> binary:match(D, <<"STOPPING=1">>) =:= nomatch
                                              end, Datagrams),
              ?assertEqual([<<"STOPPING=1\nSTATUS=stopping">>, <<"STATUS=draining">>,
                            <<"X_DEMO_STOPPED=1">>], AfterStopping)
      end).

first_ping(_R, 0) -> no_ping;
first_ping(R, N) ->
    case recv(R, 1000) of
        {ok, <<"WATCHDOG=1">>} = Ping -> Ping;
        _ -> first_ping(R, N - 1)
    end.

%% A shutdown_func set before vigil's is still called, after STOPPING.
previous_shutdown_func_test_() ->
    with_receiver(
      "a shutdown_func set before is still called",
      fun(R) ->
              Paths = [filename:dirname(code:which(M)) || M <- [vigil, ?MODULE]],
              {ok, Peer, _} =
                  peer:start(#{connection => standard_io,
                               args => lists:append([["-pa", P] || P <- Paths]),
                               env => [{"NOTIFY_SOCKET",
                                        binary_to_list(vigil_test_receiver:address(R))}]}),
              ok = peer:call(Peer, application, set_env,
                             [kernel, shutdown_func, {?MODULE, previous_shutdown_func}]),
              {ok, _} = peer:call(Peer, application, ensure_all_started, [vigil]),
              ok = peer:call(Peer, init, stop, []),
              ?assertEqual([<<"STOPPING=1\nSTATUS=stopping">>, <<"X_PREVIOUS=shutdown">>],
                           datagrams_until_down(R, Peer))
      end).

previous_shutdown_func(Reason) ->
    vigil:notify([{"X_PREVIOUS", atom_to_list(Reason)}]).

sighup_reloads_test_() ->
    with_receiver(
      "SIGHUP reloads with RELOADING and READY",
      fun(R) ->
              Peer = start_peer(R, [{sighup, {?MODULE, peer_reload, []}}]),
              ?assertEqual({ok, <<"STATUS=serving">>}, recv(R, 5000)),
              ?assertEqual({ok, <<"READY=1\nSTATUS=ready">>}, recv(R, 5000)),
              OsPid = peer:call(Peer, os, getpid, []),
              _ = os:cmd("kill -HUP " ++ OsPid),
              ?assertMatch({ok, <<"RELOADING=1\nMONOTONIC_USEC=", _/binary>>}, recv(R, 5000)),
              ?assertEqual({ok, <<"X_RELOADED=1">>}, recv(R, 5000)),
              ?assertEqual({ok, <<"READY=1">>}, recv(R, 5000)),
              %% The node still runs.
              ?assertEqual(OsPid, peer:call(Peer, os, getpid, [])),
              ok = peer:call(Peer, init, stop, []),
              ?assertEqual(lists:nthtail(2, expected_lifecycle()), datagrams_until_down(R, Peer))
      end).

sighup_ignored_test_() ->
    with_receiver(
      "sighup => ignore keeps the node up",
      fun(R) ->
              Peer = start_peer(R, [{sighup, ignore}]),
              OsPid = peer:call(Peer, os, getpid, []),
              _ = os:cmd("kill -HUP " ++ OsPid),
              %% A synchronous call after the signal: the node has handled it and still runs.
              ?assertEqual(OsPid, peer:call(Peer, os, getpid, [])),
              ok = peer:call(Peer, init, stop, []),
              ?assertEqual(expected_lifecycle(), datagrams_until_down(R, Peer))
      end).
