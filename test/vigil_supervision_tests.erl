%% The child specs in real supervision trees, and reload/1, against a real receiver.
-module(vigil_supervision_tests).
-behaviour(supervisor).

-include_lib("eunit/include/eunit.hrl").

-compile([export_all, nowarn_export_all]).

-import(vigil_test_receiver, [recv/2, recv_all/1]).

%% ---- fixtures ----

with_receiver(Tests) ->
    vigil_test_receiver:foreach_under_manager(?MODULE, Tests).

expect(R, Bytes) ->
    ?assertEqual({ok, Bytes}, recv(R, 1000)).

%% A tree: a worker, then the status, then readiness.
start_tree(Strategy) ->
    Children = [#{id => worker, start => {?MODULE, start_worker, []}},
                vigil:status_spec(#{up => "serving", down => <<"draining">>}),
                vigil:ready_spec([{status, "ready: 1 worker"}])],
    {ok, Sup} = supervisor:start_link(?MODULE, {Strategy, Children}),
    unlink(Sup),
    Sup.

init({Strategy, Children}) ->
    {ok, {#{strategy => Strategy, intensity => 5, period => 10}, Children}}.

start_worker() ->
    {ok, spawn_link(fun() -> receive stop -> ok end end)}.

stop_tree(Sup) ->
    Ref = monitor(process, Sup),
    exit(Sup, shutdown),
    receive {'DOWN', Ref, process, Sup, _} -> ok end.

child(Sup, Id) ->
    {Id, Pid, _, _} = lists:keyfind(Id, 1, supervisor:which_children(Sup)),
    Pid.

%% ---- suites ----

tree_test_() ->
    with_receiver([status_then_ready_in_order, status_process_answers_sys,
                   restart_resends_ready, one_for_one_ready_not_resent]).

reload_test_() ->
    with_receiver([reload_ok, reload_mfa, reload_error_sends_errno, reload_raise_is_failure,
                   reload_badarg]).

%% ---- tests: the tree ----

status_then_ready_in_order(R) ->
    Sup = start_tree(one_for_one),
    expect(R, <<"STATUS=serving">>),
    expect(R, <<"READY=1\nSTATUS=ready: 1 worker">>),
    stop_tree(Sup),
    expect(R, <<"STATUS=draining">>),
    ?assertEqual([], recv_all(R)).

status_process_answers_sys(R) ->
    Sup = start_tree(one_for_one),
    _ = recv_all(R),
    Status = child(Sup, vigil_status),
    %% sys(3) documents get_status/1's answer for a gen_server; the state inside is vigil's own.
    ?assertMatch({status, Status, {module, gen_server}, _}, sys:get_status(Status)),
    ok = sys:suspend(Status),
    ok = sys:resume(Status),
    ?assertEqual(undefined, child(Sup, vigil_ready)),
    stop_tree(Sup),
    expect(R, <<"STATUS=draining">>).

%% rest_for_one: the worker's crash restarts the status and readiness children after it.
restart_resends_ready(R) ->
    Sup = start_tree(rest_for_one),
    _ = recv_all(R),
    Worker = child(Sup, worker),
    exit(Worker, kill),
    expect(R, <<"STATUS=draining">>),
    expect(R, <<"STATUS=serving">>),
    expect(R, <<"READY=1\nSTATUS=ready: 1 worker">>),
    ?assertNotEqual(Worker, child(Sup, worker)),
    stop_tree(Sup),
    expect(R, <<"STATUS=draining">>).

one_for_one_ready_not_resent(R) ->
    Sup = start_tree(one_for_one),
    _ = recv_all(R),
    exit(child(Sup, worker), kill),
    ?assertEqual({error, timeout}, recv(R, 200)),
    stop_tree(Sup).

spec_options_test() ->
    ?assertMatch(#{id := vigil_ready, restart := permanent}, vigil:ready_spec()),
    ?assertMatch(#{id := mine}, vigil:ready_spec(#{id => mine})),
    ?assertMatch(#{id := vigil_status,
                   start := {vigil_status, start_link, [<<"é"/utf8>>, undefined]}},
                 vigil:status_spec([{up, "é"}])),
    ?assertError(badarg, vigil:ready_spec(#{stauts => "x"})),
    ?assertError(badarg, vigil:ready_spec([{"status", "x"}])),
    ?assertError(badarg, vigil:status_spec(#{up => 42})),
    ?assertError(badarg, vigil:status_spec(#{down => [16#110000]})),
    ?assertError(badarg, vigil:status_spec(not_options)).

%% ---- tests: reload ----

reload_ok(R) ->
    Self = self(),
    ?assertEqual(ok, vigil:reload(fun() -> Self ! reloaded, ok end)),
    {ok, Reloading} = recv(R, 1000),
    ?assertMatch(<<"RELOADING=1\nMONOTONIC_USEC=", _/binary>>, Reloading),
    <<"RELOADING=1\nMONOTONIC_USEC=", Usec/binary>> = Reloading,
    ?assert(binary_to_integer(Usec) > 0),
    ?assertEqual(reloaded, receive reloaded -> reloaded after 0 -> missing end),
    expect(R, <<"READY=1">>).

reload_mfa(R) ->
    ?assertEqual(ok, vigil:reload({erlang, list_to_atom, ["vigil_reloaded"]})),
    ?assertMatch({ok, <<"RELOADING=1\n", _/binary>>}, recv(R, 1000)),
    expect(R, <<"READY=1">>).

reload_error_sends_errno(R) ->
    ?assertEqual({error, {reload_failed, enoent}},
                 vigil:reload(fun() -> {error, enoent} end)),
    ?assertMatch({ok, <<"RELOADING=1\n", _/binary>>}, recv(R, 1000)),
    expect(R, <<"READY=1\nERRNO=2\nSTATUS=reload failed: enoent">>).

reload_raise_is_failure(R) ->
    ?assertEqual({error, {reload_failed, {error, {bad_config, "line 3"}}}},
                 vigil:reload(fun() -> error({bad_config, "line 3"}) end)),
    ?assertMatch({ok, <<"RELOADING=1\n", _/binary>>}, recv(R, 1000)),
    expect(R, <<"READY=1\nERRNO=22\nSTATUS=reload failed: {error,{bad_config,\"line 3\"}}">>).

reload_badarg(_R) ->
    ?assertError(badarg, vigil:reload(fun(_) -> ok end)),
    ?assertError(badarg, vigil:reload(not_a_fun)).
