%% @private
%% @doc The application environment: every key, its default and its check, in one place.
%%
%% vigil_app calls load/0 once, when the application starts; a bad value stops the start with
%% `{bad_config, Key, Value}'. The checked values are kept in persistent_term and read with
%% get/1; a change of the environment after the start is not seen (restart the application).
%% The keys and their meaning are documented in vigil's edoc ("Configuration").
%%
%% The environment systemd hands over (NOTIFY_SOCKET, WATCHDOG_*) is not configuration: it is
%% read by vigil_env, and a value that cannot be used is logged and turns the feature off.
-module(vigil_config).

-export([load/0, get/1, defaults/0]).

-include_lib("kernel/include/logger.hrl").

-define(KEY, {vigil, config}).
-define(DEFAULT_CHECK_TIMEOUT, 1000).
%% memory_pressure_action gc: how many of the largest processes are collected.
-define(DEFAULT_GC_PROCESSES, 20).

-type key() :: send_deadline | watchdog_fraction | health_checks | watchdog_trigger_after
             | watchdog_summary_interval | journal_socket | stopping_status | sighup | ready
             | memory_pressure_action | memory_pressure_interval.
-type health_check() :: #{check := vigil_watchdog:check(), timeout := pos_integer(),
                          name := binary()}.
-type config() :: #{send_deadline := timeout(),
                    watchdog_fraction := float(),
                    health_checks := [health_check()],
                    watchdog_trigger_after := pos_integer() | infinity,
                    watchdog_summary_interval := pos_integer() | infinity | false,
                    journal_socket := binary(),
                    stopping_status := binary(),
                    sighup := undefined | ignore | vigil_reload:reload_fun(),
                    ready := auto | manual,
                    memory_pressure_action := none | {gc, pos_integer()},
                    memory_pressure_interval := pos_integer()}.
-export_type([key/0, config/0, health_check/0]).

%% Keys of the environment that belong to someone else: `unit' is read by the unit generator
%% (mix vigil.gen.unit), at build time.
-define(NOT_OURS, [unit]).

%% @doc The defaults, as given to the checks (the raw form an application environment holds).
-spec defaults() -> #{key() => term()}.
defaults() ->
    #{send_deadline => 10000,
      watchdog_fraction => 0.5,
      health_checks => [],
      watchdog_trigger_after => infinity,
      %% One hour.
      watchdog_summary_interval => 3600000,
      journal_socket => vigil_journal_h:default_socket(),
      stopping_status => "stopping",
      sighup => undefined,
      ready => auto,
      memory_pressure_action => none,
      memory_pressure_interval => 1000}.

%% @doc Read and check the whole environment of the application, and keep the result.
-spec load() -> {ok, config()} | {error, {bad_config, atom(), term()}}.
load() ->
    Env = maps:from_list(application:get_all_env(vigil)),
    Unknown = [{K, V} || {K, V} <- maps:to_list(Env), not is_map_key(K, defaults()),
                         not lists:member(K, ?NOT_OURS)],
    case Unknown of
        [{Key, Value} | _] ->
            {error, {bad_config, Key, Value}};
        [] ->
            try check_together(maps:map(fun(Key, Default) ->
                                                check(Key, maps:get(Key, Env, Default))
                                        end, defaults())) of
                Config ->
                    keep(Config),
                    {ok, Config}
            catch
                throw:{bad_config, _, _} = Bad -> {error, Bad}
            end
    end.

%% @doc One checked value; the default when the application has not been started.
-spec get(key()) -> term().
get(Key) ->
    case persistent_term:get(?KEY, undefined) of
        #{Key := Value} -> Value;
        undefined -> check(Key, maps:get(Key, defaults()))
    end.

%% A restart with the same environment (tests do it often) leaves persistent_term alone.
keep(Config) ->
    case persistent_term:get(?KEY, undefined) of
        Config -> ok;
        _ -> persistent_term:put(?KEY, Config)
    end.

%% ---- checks: each returns the value in the form the application uses, or throws ----

check(send_deadline, Ms) when is_integer(Ms), Ms >= 0 -> Ms;
check(send_deadline, infinity) -> infinity;
check(watchdog_fraction, F) when is_number(F), F > 0, F < 1 -> float(F);
check(health_checks, Checks) when is_list(Checks) -> [health_check(C) || C <- Checks];
check(watchdog_trigger_after, N) when is_integer(N), N > 0 -> N;
check(watchdog_trigger_after, infinity) -> infinity;
check(watchdog_summary_interval, Ms) when is_integer(Ms), Ms > 0 -> Ms;
check(watchdog_summary_interval, infinity) -> infinity;
check(watchdog_summary_interval, false) -> false;
check(journal_socket, Path) -> socket_path(Path);
check(stopping_status, Text) -> text(stopping_status, Text);
check(sighup, undefined) -> undefined;
check(sighup, ignore) -> ignore;
check(sighup, {M, F, A} = MFA) when is_atom(M), is_atom(F), is_list(A) -> MFA;
check(sighup, Fun) when is_function(Fun, 0) -> Fun;
check(ready, auto) -> auto;
check(ready, manual) -> manual;
check(memory_pressure_action, none) -> none;
check(memory_pressure_action, gc) -> {gc, ?DEFAULT_GC_PROCESSES};
check(memory_pressure_action, {gc, N}) when is_integer(N), N > 0 -> {gc, N};
check(memory_pressure_interval, Ms) when is_integer(Ms), Ms > 0 -> Ms;
check(Key, Value) -> bad(Key, Value).

%% Values that are valid alone but not together. watchdog_trigger_after counts skipped pings,
%% which come every watchdog_fraction of the manager's timeout: the N-th falls at N * fraction
%% of it after the last ping, so at N * fraction >= 1 the manager has acted before the trigger
%% could be sent, whatever WATCHDOG_USEC is.
check_together(#{watchdog_trigger_after := N, watchdog_fraction := Fraction})
  when is_integer(N), N * Fraction >= 1 ->
    Most = max_trigger_after(Fraction),
    ?LOG_ERROR("vigil: watchdog_trigger_after ~b can never act at watchdog_fraction ~ts: the "
               "~b-th skipped ping would fall at ~ts times the manager's watchdog timeout, when "
               "the manager has already acted. Use at most ~b at this fraction, or a smaller "
               "watchdog_fraction (below ~ts for ~b).",
               [N, float_text(Fraction), N, float_text(N * Fraction), Most, float_text(1 / N), N]),
    bad(watchdog_trigger_after, N);
check_together(Config) ->
    Config.

%% The largest N with N * Fraction < 1 (at least 1, as Fraction < 1).
max_trigger_after(Fraction) ->
    Ceiling = ceil(1 / Fraction),
    case (Ceiling - 1) * Fraction < 1 of
        true -> Ceiling - 1;
        false -> Ceiling - 2
    end.

float_text(F) ->
    float_to_list(F, [{decimals, 4}, compact]).

-spec bad(atom(), term()) -> no_return().
bad(Key, Value) ->
    throw({bad_config, Key, Value}).

text(Key, Text) ->
    try unicode:characters_to_binary(Text) of
        Binary when is_binary(Binary) -> Binary;
        _ -> bad(Key, Text)
    catch
        error:badarg -> bad(Key, Text)
    end.

%% An AF_UNIX address as the NIF reads it (a path, or "@name" for an abstract name) and as
%% long as the platform's sockaddr_un holds: the NIF parses it when it opens a socket, and
%% that rule is written once, in C. Opening may fail for other reasons (no descriptor left),
%% which say nothing about the value.
socket_path(Path) ->
    Binary = text(journal_socket, Path),
    case vigil_nif:journal_open(Binary, 0) of
        {error, Posix} when Posix =:= einval; Posix =:= e2big -> bad(journal_socket, Path);
        _ -> Binary
    end.

%% A check is {M, F, A}, a fun of no arguments, {Check, TimeoutMs} or a map with `check' and
%% optionally `timeout' and `name'. The value named in the error is the entry at fault.
health_check(Spec) when is_map(Spec) -> health_check(Spec, Spec);
health_check({Run, Timeout} = Entry) -> health_check(#{check => Run, timeout => Timeout}, Entry);
health_check(Run) -> health_check(#{check => Run}, Run).

health_check(#{check := Run} = Spec, Entry) ->
    Timeout = maps:get(timeout, Spec, ?DEFAULT_CHECK_TIMEOUT),
    Valid = map_size(maps:without([check, timeout, name], Spec)) =:= 0
        andalso is_runnable(Run) andalso is_integer(Timeout) andalso Timeout > 0,
    case Valid of
        true -> #{check => Run, timeout => Timeout, name => name(maps:get(name, Spec, Run))};
        false -> bad(health_checks, Entry)
    end;
health_check(_Spec, Entry) ->
    bad(health_checks, Entry).

is_runnable({M, F, A}) -> is_atom(M) andalso is_atom(F) andalso is_list(A);
is_runnable(Fun) -> is_function(Fun, 0).

%% In the notation of the check's language: Shop.Health.check/0 for an Elixir module.
name({M, F, A}) ->
    case atom_to_binary(M) of
        <<"Elixir.", Module/binary>> ->
            iolist_to_binary(io_lib:format("~ts.~ts/~b", [Module, F, length(A)]));
        _ ->
            iolist_to_binary(io_lib:format("~ts:~ts/~b", [M, F, length(A)]))
    end;
name(Name) when is_binary(Name) ->
    Name;
name(Other) ->
    iolist_to_binary(io_lib:format("~tp", [Other])).
