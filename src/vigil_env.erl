%% @private
%% @doc The environment systemd hands the service, read once and kept in persistent_term.
%%
%% NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are removed from the VM's environment so that
%% ports and os:cmd/1 children do not inherit them (a child would otherwise be able to
%% speak for the service). So are socket activation's LISTEN_PID, LISTEN_PIDFDID, LISTEN_FDS
%% and LISTEN_FDNAMES, as sd_listen_fds(3) unsets them: a child must not claim the sockets. os:unsetenv/1 changes the VM's copy, which is what ports inherit;
%% libc's getenv/3 in a NIF does not see it, so the address is handed to the NIF from here.
-module(vigil_env).

-export([capture/0, restore/1, notify_socket/0, notify_socket_from/1, watchdog_usec/0,
         watchdog_pid/0, listen/0, memory_pressure/0]).

-define(KEY, {vigil, env}).
%% Each variable and its key in env().
-define(VARS, [{"NOTIFY_SOCKET", notify_socket}, {"WATCHDOG_USEC", watchdog_usec},
               {"WATCHDOG_PID", watchdog_pid}, {"LISTEN_PID", listen_pid},
               {"LISTEN_PIDFDID", listen_pidfdid}, {"LISTEN_FDS", listen_fds},
               {"LISTEN_FDNAMES", listen_fdnames}]).

-type value() :: binary() | undefined.
-type env() :: #{notify_socket := value(), watchdog_usec := value(), watchdog_pid := value(),
                 listen_pid := value(), listen_pidfdid := value(), listen_fds := value(),
                 listen_fdnames := value()}.
-type listen() :: #{pid := value(), pidfdid := value(), fds := value(), fdnames := value()}.
-export_type([listen/0]).

%% @doc Take the variables out of the environment. Variables already taken by an earlier start
%% of the application stay as they were unless the environment holds new ones.
-spec capture() -> env().
capture() ->
    Taken = maps:from_list([{Key, take(Name)} || {Name, Key} <- ?VARS]),
    Env = case lists:all(fun(V) -> V =:= undefined end, maps:values(Taken)) of
              true -> persistent_term:get(?KEY, Taken);
              false -> Taken
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
                  end, ?VARS).

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

%% @doc Socket activation's variables, as taken.
-spec listen() -> listen().
listen() ->
    #{pid => env_value(listen_pid), pidfdid => env_value(listen_pidfdid),
      fds => env_value(listen_fds), fdnames => env_value(listen_fdnames)}.

env_value(Key) ->
    maps:get(Key, persistent_term:get(?KEY, #{}), undefined).

take(Name) ->
    case os:getenv(Name) of
        false ->
            undefined;
        Value ->
            true = os:unsetenv(Name),
            unicode:characters_to_binary(Value, file:native_name_encoding())
    end.

%% @doc MEMORY_PRESSURE_WATCH and MEMORY_PRESSURE_WRITE (systemd 254 and later). Unlike the
%% others they stay in the environment: the protocol lets every process of the service open the
%% watch (a port program may want to free memory too), and a child can speak for no one with
%% them.
-spec memory_pressure() -> #{watch := value(), write := value()}.
memory_pressure() ->
    #{watch => getenv("MEMORY_PRESSURE_WATCH"), write => getenv("MEMORY_PRESSURE_WRITE")}.

getenv(Name) ->
    case os:getenv(Name) of
        false -> undefined;
        Value -> unicode:characters_to_binary(Value, file:native_name_encoding())
    end.
