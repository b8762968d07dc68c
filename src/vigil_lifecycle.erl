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
%% SIGHUP: with `sighup' in the application environment, a handler added to erl_signal_server
%% runs vigil_reload:run/1 in a process of its own, one reload at a time (a SIGHUP that arrives
%% during a reload starts one more after it). Without it, SIGHUP keeps the disposition the
%% BEAM gave it.
-module(vigil_lifecycle).

-export([install/0, uninstall/0, shutdown/1]).

-define(PREVIOUS, {vigil, previous_shutdown_func}).

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
            undefined ->
                ok;
            _ ->
                _ = (catch vigil_watchdog:disable()),
                Status = stopping_status(Reason),
                vigil_delivery:deliver([{<<"STOPPING">>, <<"1">>}, {<<"STATUS">>, {text, Status}}])
        end,
    case persistent_term:get(?PREVIOUS, undefined) of
        {M, F} -> _ = (catch M:F(Reason)), ok;
        undefined -> ok
    end.

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
