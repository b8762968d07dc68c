%% @private
%% @doc Reads the manager's address once, starts the sender and the watchdog, and installs
%% the shutdown and SIGHUP hooks (vigil_lifecycle).
-module(vigil_app).
-behaviour(application).

-export([start/2, stop/1]).

-include_lib("kernel/include/logger.hrl").

-spec start(application:start_type(), term()) -> {ok, pid()} | {error, term()}.
start(_Type, _Args) ->
    configure_nif(vigil_env:notify_socket_from(vigil_env:capture())),
    case vigil_sup:start_link() of
        {ok, Pid} ->
            ok = vigil_lifecycle:install(),
            {ok, Pid};
        Error ->
            Error
    end.

-spec stop(term()) -> ok.
stop(_State) ->
    vigil_lifecycle:uninstall().

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
