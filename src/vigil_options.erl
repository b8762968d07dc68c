%% @private
%% @doc Options of the child specs: maps or property lists (Elixir keyword lists).
-module(vigil_options).

-export([to_map/2, text/2]).

%% Unknown keys are a programming error, found when the child spec is built: badarg, with the
%% options as the arguments of the stack trace's top frame.
-spec to_map(map() | [{atom(), term()}], [atom()]) -> map().
to_map(Options, Known) when is_list(Options) ->
    case lists:all(fun({Key, _}) -> is_atom(Key); (_) -> false end, Options) of
        true -> to_map(maps:from_list(Options), Known);
        false -> error(badarg, [Options, Known])
    end;
to_map(Options, Known) when is_map(Options) ->
    case maps:keys(maps:without(Known, Options)) of
        [] -> Options;
        _Unknown -> error(badarg, [Options, Known])
    end;
to_map(Options, Known) ->
    error(badarg, [Options, Known]).

%% A text option as UTF-8, or undefined when absent.
-spec text(map(), atom()) -> binary() | undefined.
text(Opts, Key) ->
    case maps:get(Key, Opts, undefined) of
        undefined ->
            undefined;
        Text ->
            try unicode:characters_to_binary(Text) of
                Binary when is_binary(Binary) -> Binary;
                _ -> error(badarg, [Opts, Key])
            catch
                error:badarg -> error(badarg, [Opts, Key])
            end
    end.
