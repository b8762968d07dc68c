%% @private
%% @doc Checks the application environment (vigil_config), reads the manager's address once,
%% claims the sockets systemd passed (vigil_sockets), starts the delivery process and the
%% watchdog, and installs the shutdown and SIGHUP hooks (vigil_lifecycle).
-module(vigil_app).
-behaviour(application).

-export([start/2, stop/1]).

-include_lib("kernel/include/logger.hrl").

-spec start(application:start_type(), term()) -> {ok, pid()} | {error, term()}.
start(_Type, _Args) ->
    case vigil_config:load() of
        {ok, _Config} -> start();
        {error, {bad_config, _Key, _Value}} = Error -> Error
    end.

start() ->
    Address = vigil_env:notify_socket_from(vigil_env:capture()),
    report_load_error(vigil_nif:load_error(), Address),
    configure_nif(Address),
    ok = vigil_sockets:claim(),
    case vigil_sup:start_link() of
        {ok, Pid} ->
            ok = vigil_lifecycle:install(),
            {ok, Pid};
        Error ->
            Error
    end.

-spec stop(term()) -> ok.
stop(_State) ->
    ok = vigil_lifecycle:uninstall(),
    vigil_lifecycle:stopped().

%% A packaging mistake must not take the release down: say what is missing and run as with no
%% manager. Under a manager READY=1 will then not arrive, and the start times out.
report_load_error(undefined, _Address) ->
    ok;
report_load_error({File, Why}, Address) ->
    ?LOG_ERROR("vigil: ~ts could not be loaded (~ts); notifications are off~ts",
               [File, Why, under_manager(Address)]).

under_manager(undefined) -> "";
under_manager(Address) -> [", although NOTIFY_SOCKET=", Address, " is set"].

configure_nif(undefined) ->
    vigil_nif:reset();
configure_nif(Address) ->
    case vigil_nif:configure(Address) of
        ok ->
            ok;
        {error, Reason} ->
            ?LOG_ERROR("vigil: NOTIFY_SOCKET=~ts is not an address sd_notify accepts (~p); "
                       "notifications are off", [Address, Reason]),
            vigil_nif:reset()
    end.
