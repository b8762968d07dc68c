%% @private
%% @doc A reload with the manager told: RELOADING=1, the reload, READY=1 (vigil:reload/1 and
%% SIGHUP, through vigil_signal_handler).
-module(vigil_reload).

-export([reloading/0, run/1]).

-type reload_fun() :: fun(() -> term()) | {module(), atom(), [term()]}.
-export_type([reload_fun/0]).

%% @doc RELOADING=1 with MONOTONIC_USEC read from CLOCK_MONOTONIC when it is sent.
-spec reloading() -> vigil_delivery:result().
reloading() ->
    vigil_delivery:deliver([{<<"RELOADING">>, <<"1">>}, {<<"MONOTONIC_USEC">>, monotonic}]).

%% @doc Run `Reload' between RELOADING=1 and READY=1; see vigil:reload/1.
-spec run(reload_fun()) -> ok | {error, {reload_failed, term()}} | vigil_delivery:result().
run(Reload) ->
    Started = reloading(),
    case call(Reload) of
        ok ->
            first_error([Started, vigil_delivery:deliver([{<<"READY">>, <<"1">>}])]);
        {error, Reason} ->
            Status = io_lib:format("reload failed: ~0tP", [Reason, 20]),
            _ = vigil_delivery:deliver(
                  [{<<"READY">>, <<"1">>}, {<<"ERRNO">>, errno_number(Reason)},
                   {<<"STATUS">>, {text, unicode:characters_to_binary(Status)}}]),
            {error, {reload_failed, Reason}}
    end.

call(Reload) ->
    try apply_reload(Reload) of
        {error, Reason} -> {error, Reason};
        _ -> ok
    catch
        Class:Reason -> {error, {Class, Reason}}
    end.

apply_reload({M, F, A}) -> apply(M, F, A);
apply_reload(Fun) -> Fun().

first_error(Results) ->
    case [R || R <- Results, R =/= ok] of
        [] -> ok;
        [Error | _] -> Error
    end.

errno_number(eperm) -> 1;
errno_number(enoent) -> 2;
errno_number(eio) -> 5;
errno_number(eacces) -> 13;
errno_number(eexist) -> 17;
errno_number(enospc) -> 28;
errno_number(etimedout) -> 110;
errno_number(econnrefused) -> 111;
errno_number(_) -> 22.
