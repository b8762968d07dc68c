%% @private
%% @doc The environment systemd hands the service, read once and kept in persistent_term.
%%
%% NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are removed from the VM's environment so that
%% ports and os:cmd/1 children do not inherit them (a child would otherwise be able to
%% speak for the service). os:unsetenv/1 changes the VM's copy, which is what ports inherit;
%% libc's getenv/3 in a NIF does not see it, so the address is handed to the NIF from here.
-module(vigil_env).

-export([capture/0, restore/1, notify_socket/0, notify_socket_from/1, watchdog_usec/0,
         watchdog_pid/0]).

-define(KEY, {vigil, env}).
-define(VARS, ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]).

-type env() :: #{notify_socket := binary() | undefined,
                 watchdog_usec := binary() | undefined,
                 watchdog_pid := binary() | undefined}.

%% @doc Take the variables out of the environment. Variables already taken by an earlier start
%% of the application stay as they were unless the environment holds new ones.
-spec capture() -> env().
capture() ->
    Taken = [take(Name) || Name <- ?VARS],
    Env = case lists:all(fun(V) -> V =:= undefined end, Taken) of
              true -> persistent_term:get(?KEY, to_env(Taken));
              false -> to_env(Taken)
          end,
    persistent_term:put(?KEY, Env),
    Env.

%% @doc Put the variables taken back into the environment, for a restart of the node in place
%% (init:restart/0), which erases persistent_term: capture/0 takes them again. `Now' gives the
%% values that have changed since they were taken (`watchdog_usec', as an integer).
-spec restore(#{watchdog_usec => pos_integer()}) -> ok.
restore(Now) ->
    Taken = persistent_term:get(?KEY, #{}),
    Env = maps:merge(Taken, maps:map(fun(_Key, Usec) -> integer_to_binary(Usec) end, Now)),
    lists:foreach(fun({Name, Key}) ->
                          case maps:get(Key, Env, undefined) of
                              undefined -> ok;
                              Value -> true = os:putenv(Name, native(Value))
                          end
                  end, lists:zip(?VARS, [notify_socket, watchdog_usec, watchdog_pid])).

native(Value) ->
    unicode:characters_to_list(Value, file:native_name_encoding()).

-spec notify_socket() -> binary() | undefined.
notify_socket() -> env_value(notify_socket).

-spec notify_socket_from(env()) -> binary() | undefined.
notify_socket_from(#{notify_socket := Socket}) -> Socket.

-spec watchdog_usec() -> binary() | undefined.
watchdog_usec() -> env_value(watchdog_usec).

-spec watchdog_pid() -> binary() | undefined.
watchdog_pid() -> env_value(watchdog_pid).

env_value(Key) ->
    maps:get(Key, persistent_term:get(?KEY, #{}), undefined).

to_env([Socket, WatchdogUsec, WatchdogPid]) ->
    #{notify_socket => Socket, watchdog_usec => WatchdogUsec, watchdog_pid => WatchdogPid}.

take(Name) ->
    case os:getenv(Name) of
        false ->
            undefined;
        Value ->
            true = os:unsetenv(Name),
            unicode:characters_to_binary(Value, file:native_name_encoding())
    end.
