%% @private
%% @doc Why a health check failed, told in the language the check is written in: Elixir's
%% words for a check in an Elixir module (`** (RuntimeError) boom', `** (exit) :noproc',
%% `returned {:error, :down}'), Erlang's otherwise (`raised error:badarg', `returned
%% {error,down}'). Elixir's own formatting is used when Elixir is loaded; without it, the
%% Erlang form. The check's name is formatted the same way by vigil_config.
-module(vigil_reason).

-export([is_elixir/1, raised/4, returned/2, exited/2]).

%% Terms are cut to this depth, in both languages.
-define(DEPTH, 12).

%% @doc Whether the check is in an Elixir module: `{M, F, A}' with M an Elixir module, or a
%% fun defined in (or capturing a function of) one.
-spec is_elixir(vigil_watchdog:check()) -> boolean().
is_elixir({M, _F, _A}) ->
    is_elixir_module(M);
is_elixir(Fun) when is_function(Fun) ->
    {module, M} = erlang:fun_info(Fun, module),
    is_elixir_module(M).

is_elixir_module(M) ->
    case atom_to_binary(M) of
        <<"Elixir.", _/binary>> -> true;
        _ -> false
    end.

%% @doc The check raised.
-spec raised(error | exit | throw, term(), list(), boolean()) -> unicode:chardata().
raised(Class, Reason, Stack, true) ->
    case elixir(fun(Exception) -> Exception:format_banner(Class, Reason, Stack) end,
                'Elixir.Exception') of
        {ok, Banner} -> Banner;
        error -> raised(Class, Reason, Stack, false)
    end;
raised(Class, Reason, _Stack, false) ->
    io_lib:format("raised ~p:~0tP", [Class, Reason, ?DEPTH]).

%% @doc The check returned something other than `ok', `true' or `{ok, _}'.
-spec returned(term(), boolean()) -> unicode:chardata().
returned(Value, Elixir) ->
    ["returned ", term(Value, Elixir)].

%% @doc The check's process ended without an outcome (killed from outside, say).
-spec exited(term(), boolean()) -> unicode:chardata().
exited(Reason, Elixir) ->
    ["exited: ", term(Reason, Elixir)].

term(Term, true) ->
    case elixir(fun(Kernel) -> Kernel:inspect(Term, [{limit, ?DEPTH}]) end, 'Elixir.Kernel') of
        {ok, Text} -> Text;
        error -> term(Term, false)
    end;
term(Term, false) ->
    io_lib:format("~0tP", [Term, ?DEPTH]).

%% Run Format with the Elixir module given, when Elixir is there; its result must be text.
elixir(Format, Module) ->
    case code:ensure_loaded(Module) of
        {module, Module} ->
            try Format(Module) of
                Text when is_binary(Text) -> {ok, Text};
                _ -> error
            catch
                _:_ -> error
            end;
        {error, _} ->
            error
    end.
