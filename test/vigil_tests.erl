%% Tests of the vigil API against a real AF_UNIX datagram receiver standing in for the manager.
-module(vigil_tests).

-include_lib("eunit/include/eunit.hrl").

-compile([export_all, nowarn_export_all]).

-import(vigil_test_receiver, [recv/2, recv_all/1]).

%% ---- fixtures ----

with_receiver(Kind, Tests) ->
    {foreach,
     fun() ->
             R = vigil_test_receiver:open(Kind),
             vigil_test_receiver:start_vigil_with([{"NOTIFY_SOCKET",
                                                    binary_to_list(vigil_test_receiver:address(R))}]),
             R
     end,
     fun(R) ->
             vigil_test_receiver:close(R),
             application:unset_env(vigil, send_deadline),
             vigil_test_receiver:start_vigil_without_manager()
     end,
     [fun(R) -> {atom_to_list(Name) ++ " (" ++ atom_to_list(Kind) ++ ")",
                 fun() -> ?MODULE:Name(R) end}
      end || Name <- Tests]}.

expect(R, Bytes) ->
    ?assertEqual({ok, Bytes}, recv(R, 1000)).

nothing_sent(R) ->
    ?assertEqual([], recv_all(R)).

%% ---- suites ----

exact_bytes_test_() ->
    Tests = [ready_bytes, status_bytes, reloading_bytes, stopping_bytes, extend_timeout_bytes,
             errno_bytes, exit_status_bytes, mainpid_bytes, watchdog_bytes, notify_bytes,
             enabled_with_manager, barrier_passes],
    [with_receiver(path, Tests), with_receiver(abstract, Tests)].

safety_test_() ->
    with_receiver(path, [status_cannot_inject_ready, status_is_cut_to_fit, status_backslashes,
                         status_invalid_utf8_replaced, notify_refuses_invalid, notify_badarg,
                         notify_too_big, barrier_times_out, environment_not_inherited]).

resilience_test_() ->
    {timeout, 60,
     with_receiver(path, [receiver_recreated, receiver_gone_then_back,
                          ready_delivered_after_queue_drains, state_change_deadline,
                          change_kept_past_deadline, barrier_waits_for_queued_changes,
                          barrier_waits_for_room_without_cpu,
                          waiting_costs_no_cpu,
                          watchdog_usec_is_a_change_whatever_sends_it, status_latest_wins,
                          no_scheduler_blocked, nif_purge_and_reload,
                          nif_upgrade_keeps_connection])}.

%% One class per message, whichever function sends it.
class_test() ->
    ?assertEqual(change, vigil_delivery:class([{<<"READY">>, <<"1">>}])),
    ?assertEqual(change, vigil_delivery:class([{'WATCHDOG_USEC', 1000}])),
    ?assertEqual(change, vigil_delivery:class([{"WATCHDOG", <<"trigger">>}])),
    ?assertEqual(change, vigil_delivery:class([{<<"STATUS">>, <<"x">>}, {'ERRNO', 5}])),
    ?assertEqual(change, vigil_delivery:class([{<<"X">>, <<"1">>}, {'MAINPID', 5}])),
    ?assertEqual(latest, vigil_delivery:class([{"STATUS", <<"x">>}])),
    ?assertEqual(once, vigil_delivery:class([{<<"WATCHDOG">>, <<"1">>}])),
    ?assertEqual(once, vigil_delivery:class([{<<"STATUS">>, <<"x">>}, {<<"X">>, <<"1">>}])),
    ?assertEqual(once, vigil_delivery:class([{<<"X_CUSTOM">>, 1}])),
    ?assertEqual(once, vigil_delivery:class([])).

no_manager_test_() ->
    {setup, fun vigil_test_receiver:start_vigil_without_manager/0,
     [?_assertNot(vigil:enabled()),
      ?_assertEqual(ok, vigil:ready()),
      ?_assertEqual(ok, vigil:status("nobody listens")),
      ?_assertEqual(ok, vigil:reloading()),
      ?_assertEqual(ok, vigil:stopping()),
      ?_assertEqual(ok, vigil:extend_timeout(10)),
      ?_assertEqual(ok, vigil:errno(5)),
      ?_assertEqual(ok, vigil:exit_status(1)),
      ?_assertEqual(ok, vigil:mainpid(1)),
      ?_assertEqual(ok, vigil:watchdog(ping)),
      ?_assertEqual(ok, vigil:watchdog(trigger)),
      ?_assertEqual(ok, vigil:notify([{"X", "y"}])),
      ?_assertEqual(ok, vigil:barrier(10))]}.

malformed_address_test() ->
    Bad = ["relative/notify", "@", "vsock::1", "/" ++ lists:duplicate(200, $a)],
    lists:foreach(
      fun(Address) ->
              vigil_test_receiver:start_vigil_with([{"NOTIFY_SOCKET", Address}]),
              ?assertNot(vigil:enabled()),
              ?assertEqual(ok, vigil:ready())
      end, Bad),
    vigil_test_receiver:start_vigil_without_manager().

%% ---- exact bytes ----

ready_bytes(R) ->
    ?assertEqual(ok, vigil:ready()),
    expect(R, <<"READY=1">>).

status_bytes(R) ->
    ?assertEqual(ok, vigil:status(<<"serving">>)),
    expect(R, <<"STATUS=serving">>),
    ?assertEqual(ok, vigil:status(["d", $é, "j", <<"à"/utf8>>, " ", 16#20AC])),
    expect(R, <<"STATUS=déjà €"/utf8>>).

reloading_bytes(R) ->
    Before = os_monotonic_usec(),
    ?assertEqual(ok, vigil:reloading()),
    After = os_monotonic_usec(),
    {ok, <<"RELOADING=1\nMONOTONIC_USEC=", Usec/binary>>} = recv(R, 1000),
    Sent = binary_to_integer(Usec),
    ?assert(Sent >= Before andalso Sent =< After).

stopping_bytes(R) ->
    ?assertEqual(ok, vigil:stopping()),
    expect(R, <<"STOPPING=1">>).

extend_timeout_bytes(R) ->
    ?assertEqual(ok, vigil:extend_timeout(1500)),
    expect(R, <<"EXTEND_TIMEOUT_USEC=1500000">>),
    ?assertError(badarg, vigil:extend_timeout(-1)).

errno_bytes(R) ->
    ?assertEqual(ok, vigil:errno(5)),
    expect(R, <<"ERRNO=5">>),
    ?assertError(badarg, vigil:errno(-1)).

exit_status_bytes(R) ->
    ?assertEqual(ok, vigil:exit_status(3)),
    expect(R, <<"EXIT_STATUS=3">>),
    ?assertError(badarg, vigil:exit_status(256)).

mainpid_bytes(R) ->
    ?assertEqual(ok, vigil:mainpid(4711)),
    expect(R, <<"MAINPID=4711">>),
    ?assertError(badarg, vigil:mainpid(0)).

watchdog_bytes(R) ->
    ?assertEqual(ok, vigil:watchdog(ping)),
    expect(R, <<"WATCHDOG=1">>),
    ?assertEqual(ok, vigil:watchdog(trigger)),
    expect(R, <<"WATCHDOG=trigger">>),
    ?assertError(badarg, vigil:watchdog(bark)).

notify_bytes(R) ->
    ?assertEqual(ok, vigil:notify([{'READY', 1}, {"STATUS", "é"}, {<<"X_Y">>, <<"a=b c">>}])),
    expect(R, <<"READY=1\nSTATUS=é\nX_Y=a=b c"/utf8>>).

enabled_with_manager(_R) ->
    ?assert(vigil:enabled()).

barrier_passes(R) ->
    Self = self(),
    spawn_link(fun() -> timer:sleep(50), Self ! {read, recv(R, 1000)} end),
    ?assertEqual(ok, vigil:barrier(2000)),
    ?assertEqual({ok, <<"BARRIER=1">>}, receive {read, Got} -> Got end).

%% ---- safety ----

status_cannot_inject_ready(R) ->
    ?assertEqual(ok, vigil:status("failed: boom\nREADY=1\r\nSTOPPING=1")),
    expect(R, <<"STATUS=failed: boom READY=1  STOPPING=1">>).

status_is_cut_to_fit(R) ->
    ?assertEqual(ok, vigil:status(lists:duplicate(3000, $é))),
    {ok, <<"STATUS=", Text/binary>> = Datagram} = recv(R, 1000),
    ?assertEqual(4095, byte_size(Datagram)),
    ?assertEqual(Text, unicode:characters_to_binary(Text)).

status_backslashes(R) ->
    ?assertEqual(ok, vigil:status(<<"C:\\dir\\">>)),
    expect(R, <<"STATUS=C:\\\\dir\\\\">>).

status_invalid_utf8_replaced(R) ->
    ?assertEqual(ok, vigil:status(<<"a", 255, "b">>)),
    expect(R, <<"STATUS=a", 16#FFFD/utf8, "b">>),
    ?assertEqual(ok, vigil:status([<<"x">>, 16#D800, <<255>>])),
    expect(R, <<"STATUS=x", 16#FFFD/utf8, 16#FFFD/utf8>>).

notify_refuses_invalid(R) ->
    ?assertEqual({error, {invalid, "STATUS"}}, vigil:notify([{"STATUS", "a\nREADY=1"}])),
    ?assertEqual({error, {invalid, x}}, vigil:notify([{'READY', 1}, {x, 1}])),
    ?assertEqual({error, {invalid, <<"A">>}}, vigil:notify([{<<"A">>, <<"back\\slash">>}])),
    ?assertEqual({error, {invalid, "B"}}, vigil:notify([{"B", "cr\r"}])),
    ?assertEqual({error, {invalid, "STATUS"}}, vigil:notify([{"STATUS", <<255>>}])),
    ?assertEqual({error, {invalid, "C"}}, vigil:notify([{"C", <<0>>}])),
    ?assertEqual({error, {invalid, "D"}}, vigil:notify([{"D", [16#D800]}])),
    ?assertEqual({error, {invalid, ""}}, vigil:notify([{"", "1"}])),
    nothing_sent(R).

notify_badarg(R) ->
    ?assertError(badarg, vigil:notify([{"A", 1.5}])),
    ?assertError(badarg, vigil:notify([{{a}, 1}])),
    ?assertError(badarg, vigil:notify([{"A", 1, 2}])),
    ?assertError(badarg, vigil:notify(not_a_list)),
    ?assertError(badarg, vigil:notify([{"A", 1} | tail])),
    ?assertError(badarg, vigil:status(42)),
    ?assertError(badarg, vigil:barrier(-1)),
    nothing_sent(R).

notify_too_big(R) ->
    ?assertEqual({error, emsgsize}, vigil:notify([{"X", binary:copy(<<"a">>, 4095)}])),
    ?assertEqual(ok, vigil:notify([{"X", binary:copy(<<"a">>, 4094)}])),
    {ok, Datagram} = recv(R, 1000),
    ?assertEqual(4096, byte_size(Datagram)).

barrier_times_out(_R) ->
    ?assertEqual({error, timeout}, vigil:barrier(100)).

%% Children of the VM (ports, os:cmd) must not be able to speak for the service.
environment_not_inherited(_R) ->
    ?assertEqual(false, os:getenv("NOTIFY_SOCKET")),
    Env = os:cmd("env"),
    ?assertEqual(nomatch, string:find(Env, "NOTIFY_SOCKET")),
    ?assertEqual(nomatch, string:find(Env, "WATCHDOG_")).

%% ---- resilience ----

%% The manager re-executed: its socket was removed and bound again.
receiver_recreated(R0) ->
    ?assertEqual(ok, vigil:status("one")),
    expect(R0, <<"STATUS=one">>),
    R = vigil_test_receiver:reopen(vigil_test_receiver:close_socket(R0)),
    ?assertEqual(ok, vigil:status("two")),
    expect(R, <<"STATUS=two">>),
    vigil_test_receiver:close(R).

receiver_gone_then_back(R0) ->
    R1 = vigil_test_receiver:close_socket(R0),
    ?assertMatch({error, E} when E =:= enoent; E =:= econnrefused, vigil:watchdog(ping)),
    R = vigil_test_receiver:reopen(R1),
    ?assertEqual(ok, vigil:ready()),
    expect(R, <<"READY=1">>),
    vigil_test_receiver:close(R).

%% A manager that stops reading: READY waits, without blocking a scheduler, until it drains.
ready_delivered_after_queue_drains(R) ->
    Queued = vigil_test_receiver:fill_queue(0),
    ?assert(Queued >= 1),
    Self = self(),
    spawn_link(fun() -> Self ! {ready, vigil:ready()} end),
    receive {ready, Early} -> error({returned_before_drain, Early}) after 200 -> ok end,
    Received = recv_all(R),
    ?assertEqual(ok, receive {ready, Result} -> Result after 2000 -> timeout end),
    ?assertEqual(lists:duplicate(Queued, <<"WATCHDOG=1">>) ++ [<<"READY=1">>],
                 Received ++ recv_all(R)).

%% The application reads send_deadline at start.
restart_with_deadline(R, Ms) ->
    ok = application:set_env(vigil, send_deadline, Ms),
    vigil_test_receiver:start_vigil_with(
      [{"NOTIFY_SOCKET", binary_to_list(vigil_test_receiver:address(R))}]).

state_change_deadline(R) ->
    restart_with_deadline(R, 150),
    _ = vigil_test_receiver:fill_queue(0),
    Started = erlang:monotonic_time(millisecond),
    ?assertEqual({error, timeout}, vigil:stopping()),
    Waited = erlang:monotonic_time(millisecond) - Started,
    ?assert(Waited >= 150 andalso Waited < 1000, Waited),
    vigil_test_receiver:drain(R).

%% A state change that timed out for its caller stays queued: once the manager reads again it
%% arrives exactly once, in order with the changes made after it, and before the status line
%% refused meanwhile.
change_kept_past_deadline(R) ->
    restart_with_deadline(R, 100),
    Queued = vigil_test_receiver:fill_queue(0),
    ?assertEqual({error, timeout}, vigil:ready()),
    ?assertEqual(ok, vigil:status("migrating")),
    ?assertEqual({error, timeout}, vigil:extend_timeout(5000)),
    ?assertEqual({error, eagain}, vigil:watchdog(ping)),
    Received = recv_all(R),
    ?assertEqual(lists:duplicate(Queued, <<"WATCHDOG=1">>)
                 ++ [<<"READY=1">>, <<"EXTEND_TIMEOUT_USEC=5000000">>, <<"STATUS=migrating">>],
                 Received),
    %% Nothing twice, and the next change goes straight out.
    ?assertEqual(ok, vigil:stopping()),
    ?assertEqual([<<"STOPPING=1">>], recv_all(R)).

%% A barrier passes once the manager has read what was sent before it, queued changes too.
barrier_waits_for_queued_changes(R) ->
    restart_with_deadline(R, 100),
    Queued = vigil_test_receiver:fill_queue(0),
    ?assertEqual({error, timeout}, vigil:ready()),
    Self = self(),
    spawn_link(fun() -> Self ! {barrier, vigil:barrier(5000)} end),
    receive {barrier, Early} -> error({returned_before_drain, Early}) after 200 -> ok end,
    Received = recv_all(R),
    ?assertEqual(ok, receive {barrier, Result} -> Result after 2000 -> still_waiting end),
    ?assertEqual(lists:duplicate(Queued, <<"WATCHDOG=1">>) ++ [<<"READY=1">>, <<"BARRIER=1">>],
                 Received ++ recv_all(R)).

%% A barrier refused by the full queue waits for room, without running.
barrier_waits_for_room_without_cpu(R) ->
    Queued = vigil_test_receiver:fill_queue(0),
    Self = self(),
    Caller = spawn_link(fun() -> Self ! {barrier, vigil:barrier(5000)} end),
    timer:sleep(100),
    {reductions, Before} = process_info(Caller, reductions),
    timer:sleep(1000),
    {reductions, After} = process_info(Caller, reductions),
    ?assertEqual(Before, After),
    Received = recv_all(R),
    ?assertEqual(ok, receive {barrier, Result} -> Result after 2000 -> still_waiting end),
    ?assertEqual(lists:duplicate(Queued, <<"WATCHDOG=1">>) ++ [<<"BARRIER=1">>],
                 Received ++ recv_all(R)).

%% While the manager's queue stays full, waiting for it costs nothing: neither the caller nor
%% the delivery process runs, and the message goes out as soon as there is room.
waiting_costs_no_cpu(R) ->
    restart_with_deadline(R, 3000),
    Queued = vigil_test_receiver:fill_queue(0),
    Self = self(),
    Caller = spawn_link(fun() -> Self ! {ready, vigil:ready()} end),
    timer:sleep(100),
    Delivery = whereis(vigil_delivery),
    {reductions, Before} = process_info(Delivery, reductions),
    {reductions, CallerBefore} = process_info(Caller, reductions),
    timer:sleep(1000),
    {reductions, After} = process_info(Delivery, reductions),
    {reductions, CallerAfter} = process_info(Caller, reductions),
    ?assert(After - Before < 500, {delivery_reductions, After - Before}),
    ?assertEqual(CallerBefore, CallerAfter),
    Received = recv_all(R),
    ?assertEqual(ok, receive {ready, Result} -> Result after 1000 -> still_waiting end),
    ?assertEqual(lists:duplicate(Queued, <<"WATCHDOG=1">>) ++ [<<"READY=1">>], Received).

%% WATCHDOG_USEC is a state change whether watchdog_timeout/1 or notify/1 sends it.
watchdog_usec_is_a_change_whatever_sends_it(R) ->
    Queued = vigil_test_receiver:fill_queue(0),
    Self = self(),
    spawn_link(fun() -> Self ! {notified, vigil:notify([{'WATCHDOG_USEC', 30000000}])} end),
    receive {notified, Early} -> error({returned_before_drain, Early}) after 200 -> ok end,
    Received = recv_all(R),
    ?assertEqual(ok, receive {notified, Result} -> Result after 2000 -> timeout end),
    ?assertEqual(lists:duplicate(Queued, <<"WATCHDOG=1">>) ++ [<<"WATCHDOG_USEC=30000000">>],
                 Received ++ recv_all(R)).

%% STATUS does not wait; only the newest pending one is sent once the queue drains.
status_latest_wins(R) ->
    Queued = vigil_test_receiver:fill_queue(0),
    ?assertEqual(ok, vigil:status("old")),
    ?assertEqual(ok, vigil:status("newest")),
    Received = recv_all(R),
    timer:sleep(100),
    ?assertEqual(lists:duplicate(Queued, <<"WATCHDOG=1">>) ++ [<<"STATUS=newest">>],
                 Received ++ recv_all(R)).

%% Flooding a full queue must never hold a scheduler: every call returns at once.
no_scheduler_blocked(R) ->
    erlang:system_monitor(self(), [{long_schedule, 10}]),
    _ = vigil_test_receiver:fill_queue(0),
    Results = [vigil:watchdog(ping) || _ <- lists:seq(1, 20000)],
    erlang:system_monitor(undefined),
    ?assert(lists:all(fun(X) -> X =:= {error, eagain} end, Results)),
    Long = receive {monitor, _, long_schedule, Info} -> Info after 100 -> none end,
    ?assertEqual(none, Long),
    vigil_test_receiver:drain(R).

nif_purge_and_reload(R) ->
    true = code:delete(vigil_nif),
    _ = code:purge(vigil_nif),
    ?assertEqual(false, code:is_loaded(vigil_nif)),
    {module, vigil_nif} = code:load_file(vigil_nif),
    ?assertEqual(ok, vigil:ready()),
    expect(R, <<"READY=1">>).

%% Loading a new version while the old one runs goes through the upgrade callback.
nif_upgrade_keeps_connection(R) ->
    {module, vigil_nif} = code:load_file(vigil_nif),
    ?assertEqual(ok, vigil:status("after upgrade")),
    _ = code:purge(vigil_nif),
    ?assertEqual(ok, vigil:status("after purge")),
    expect(R, <<"STATUS=after upgrade">>),
    expect(R, <<"STATUS=after purge">>).

%% CLOCK_MONOTONIC in microseconds, as the VM reads it.
os_monotonic_usec() ->
    Source = erlang:system_info(os_monotonic_time_source),
    {clock_id, 'CLOCK_MONOTONIC'} = lists:keyfind(clock_id, 1, Source),
    {time, Native} = lists:keyfind(time, 1, Source),
    erlang:convert_time_unit(Native, native, microsecond).
