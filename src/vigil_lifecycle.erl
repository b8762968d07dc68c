%% @private
%% @doc STOPPING=1 at the moment shutdown begins, and SIGHUP as a reload.
%%
%% Shutdown: `init:stop/0' (which is also what the BEAM does on SIGTERM) asks the
%% application_controller to terminate, and the first thing it does, before stopping any
%% application, is to call the function in kernel's `shutdown_func' environment (kernel(6)).
%% That function is set here; it sends STOPPING=1 with a status line, then calls the function
%% that was set before, if any. Applications then stop in the reverse order of their start, so
%% vigil, which the user's applications depend on, stops last and can still deliver it.
%% The function stays set when vigil is stopped alone (the application_controller cannot be
%% asked to change its environment while it waits for an application to stop); it then sends
%% nothing and only calls the previous one. Watchdog pings end with STOPPING=1: the manager
%% stops its watchdog when the stop begins, but a later WATCHDOG=1 arms it again, and a drain
%% longer than WatchdogSec= would then end in SIGABRT instead of under TimeoutStopSec=.
%%
%% What init was asked is read from its stack (init_request/0): the same hook serves three
%% requests. init:stop/0 and SIGTERM: STOPPING=1 as above. init:restart/0 (System.restart/0,
%% `bin/app restart'), which stops every application and boots again in the same OS process:
%% RELOADING=1 with MONOTONIC_USEC and STATUS=restarting, the watchdog pinging on without
%% health checks, and the manager's variables handed to the next boot through the OS
%% environment (stopped/0), since init erases persistent_term; the restarted boot sends READY=1
%% (a readiness child, or vigil_boot at its end). init:reboot/0 without heart: STOPPING=1 with
%% STATUS=rebooting, then, once every application has stopped, the VM exits with status 75 for
%% the unit's RestartForceExitStatus= to start it again.
%%
%% SIGHUP: with `sighup' in the application environment, a handler added to erl_signal_server
%% runs vigil_reload:run/1 in a process of its own, one reload at a time (a SIGHUP that arrives
%% during a reload starts one more after it). Without it, SIGHUP keeps the disposition the
%% BEAM gave it.
-module(vigil_lifecycle).

-export([install/0, uninstall/0, shutdown/1, stopped/0, init_request/0, reboot_exit_status/0]).
-export([halt_after/2]).

-define(PREVIOUS, {vigil, previous_shutdown_func}).
%% Set while init restarts the node in place; init erases persistent_term before it boots again.
-define(RESTARTING, {vigil, restarting}).
%% The exit status of init:reboot/0 without heart: EX_TEMPFAIL of sysexits.h.
-define(REBOOT_EXIT_STATUS, 75).

-spec install() -> ok.
install() ->
    install_shutdown_func(),
    install_sighup(vigil_config:get(sighup)).

-spec uninstall() -> ok.
uninstall() ->
    Removed = gen_event:delete_handler(erl_signal_server, vigil_signal_handler, uninstall),
    case {Removed, vigil_config:get(sighup)} of
        {{error, module_not_found}, ignore} -> os:set_signal(sighup, default);
        {{error, module_not_found}, _} -> ok;
        _ -> os:set_signal(sighup, default)
    end.

%% @doc kernel's shutdown_func: the application_controller calls it when it starts to terminate.
-spec shutdown(term()) -> ok.
shutdown(Reason) ->
    _ = case whereis(vigil_sup) of
            undefined -> ok;
            _ -> announce(init_request(), Reason)
        end,
    case persistent_term:get(?PREVIOUS, undefined) of
        {M, F} -> _ = (catch M:F(Reason)), ok;
        undefined -> ok
    end.

%% @doc The exit status of `init:reboot/0' under a manager and without heart.
-spec reboot_exit_status() -> pos_integer().
reboot_exit_status() ->
    ?REBOOT_EXIT_STATUS.

%% init:restart/0: the same OS process boots again. The manager is told it is reloading; the
%% watchdog keeps pinging, without health checks, until vigil stops (stopped/0 sends one last
%% ping), and the restarted vigil pings again as soon as it starts.
announce(restart, _Reason) ->
    Ping = try vigil_watchdog:restarting() catch exit:_ -> false end,
    %% The timeout the manager has now, which watchdog_timeout/1 may have changed.
    Timeout = try vigil_watchdog:info() of
                  #{timeout := Ms} when is_integer(Ms) -> #{watchdog_usec => Ms * 1000};
                  _ -> #{}
              catch
                  exit:_ -> #{}
              end,
    persistent_term:put(?RESTARTING, #{ping => Ping, env => Timeout}),
    vigil_delivery:deliver([{<<"RELOADING">>, <<"1">>}, {<<"MONOTONIC_USEC">>, monotonic},
                            {<<"STATUS">>, {text, <<"restarting">>}}]);
%% init:reboot/0 ends the OS process, with status 0, for heart to start a new one. Without
%% heart, the manager is to start it again: it exits with ?REBOOT_EXIT_STATUS instead, for
%% RestartForceExitStatus=, once every application has stopped.
announce(reboot, _Reason) ->
    case whereis(heart) of
        undefined -> exit_when_stopped(?REBOOT_EXIT_STATUS);
        _Heart -> ok
    end,
    stopping(<<"rebooting">>);
announce(stop, Reason) ->
    stopping(stopping_status(Reason)).

stopping(Status) ->
    _ = (catch vigil_watchdog:disable()),
    vigil_delivery:deliver([{<<"STOPPING">>, <<"1">>}, {<<"STATUS">>, {text, Status}}]).

%% The application_controller exits once it has stopped every application; init then kills
%% every process and halts with status 0. A process at the highest priority halts first, with
%% the status given.
exit_when_stopped(Status) ->
    _ = spawn(?MODULE, halt_after, [whereis(application_controller), Status]),
    ok.

%% @doc Halt with `Status' once `Controller' has exited (spawned by exit_when_stopped/1).
-spec halt_after(pid(), non_neg_integer()) -> no_return().
halt_after(Controller, Status) ->
    process_flag(priority, max),
    Ref = monitor(process, Controller),
    receive {'DOWN', Ref, process, _, _} -> erlang:halt(Status) end.

%% @doc vigil has stopped (vigil_app:stop/1). In a restart in place, hand the manager's
%% variables back to the OS environment, where the restarted vigil takes them again (init
%% erases persistent_term), and ping once more: the restart has a whole timeout from here to
%% bring vigil back.
-spec stopped() -> ok.
stopped() ->
    case persistent_term:get(?RESTARTING, undefined) of
        #{ping := Ping, env := Env} ->
            vigil_env:restore(Env),
            _ = Ping andalso vigil_delivery:ping(),
            ok;
        undefined ->
            ok
    end.

%% @doc What init was asked to do: `stop' (init:stop/0,1, SIGTERM), `restart' (init:restart/0,1)
%% or `reboot' (init:reboot/0). kernel's shutdown_func is given `shutdown' in every case, and
%% init:get_status/0 says `stopping'; init keeps the request in the frame of init:stop/2 on its
%% stack while it shuts the system down (it halts, or boots again, by it afterwards), where
%% the process's backtrace shows it. Anything not recognised is `stop', the behaviour of
%% before.
-spec init_request() -> stop | restart | reboot.
init_request() ->
    try erlang:process_info(whereis(init), backtrace) of
        {backtrace, Text} -> request_in(binary:split(Text, <<"\n">>, [global]));
        _ -> stop
    catch
        error:badarg -> stop
    end.

request_in([]) ->
    stop;
request_in([Line | Rest]) ->
    case binary:match(Line, <<"(init:stop/2 ">>) of
        nomatch -> request_in(Rest);
        _ -> frame_request(Rest)
    end.

%% The frame's y registers, one a line: "y(1)     restart".
frame_request([<<"y(", _/binary>> = Line | Rest]) ->
    [_, Value] = binary:split(Line, <<")">>),
    case string:trim(Value) of
        <<"restart">> -> restart;
        <<"{restart,", _/binary>> -> restart;
        <<"reboot">> -> reboot;
        _ -> frame_request(Rest)
    end;
frame_request(_) ->
    stop.

stopping_status(shutdown) ->
    vigil_config:get(stopping_status);
stopping_status(Reason) ->
    [vigil_config:get(stopping_status),
     unicode:characters_to_binary(io_lib:format(": ~0tP", [Reason, 20]))].

install_shutdown_func() ->
    case application:get_env(kernel, shutdown_func) of
        {ok, {?MODULE, shutdown}} ->
            ok;
        Previous ->
            case Previous of
                {ok, {M, F}} when is_atom(M), is_atom(F) -> persistent_term:put(?PREVIOUS, {M, F});
                _ -> ok
            end,
            application:set_env(kernel, shutdown_func, {?MODULE, shutdown})
    end.

install_sighup(undefined) ->
    ok;
install_sighup(ignore) ->
    os:set_signal(sighup, ignore);
install_sighup({M, F, A} = Reload) when is_atom(M), is_atom(F), is_list(A) ->
    add_sighup_handler(Reload);
install_sighup(Reload) when is_function(Reload, 0) ->
    add_sighup_handler(Reload).

add_sighup_handler(Reload) ->
    _ = gen_event:delete_handler(erl_signal_server, vigil_signal_handler, uninstall),
    ok = gen_event:add_handler(erl_signal_server, vigil_signal_handler, Reload),
    os:set_signal(sighup, handle).
