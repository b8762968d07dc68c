%% @doc Tell systemd how the service is doing: the service notification protocol of sd_notify(3).
%%
%% Every function returns `ok' when the message was sent, and also when there is no manager to
%% send it to (no `NOTIFY_SOCKET', as on a developer's machine or under `mix test'). Errors:
%% <ul>
%% <li>`badarg' is raised for an argument of the wrong type;</li>
%% <li>`{error, {invalid, Key}}': the key or its value would not reach the manager as given
%%     (a newline, carriage return, NUL or backslash in a value; a key outside
%%     `[A-Z_][A-Z0-9_]*'; a STATUS that is not valid UTF-8). Nothing is sent;</li>
%% <li>`{error, emsgsize}': the message is longer than the 4096 bytes the manager reads;</li>
%% <li>`{error, timeout}': a state change could not be delivered before the `send_deadline'
%%     because the manager's queue stayed full (see below), or a barrier was not passed in time;</li>
%% <li>`{error, Posix}': the socket failed, e.g. `econnrefused' or `enoent' while the manager
%%     is not there (the next call reconnects by itself), or `eagain' for a watchdog ping
%%     the full queue refused.</li>
%% </ul>
%% When the manager's queue is full, state changes (READY, RELOADING, STOPPING, ERRNO,
%% EXIT_STATUS, MAINPID, EXTEND_TIMEOUT_USEC, WATCHDOG=trigger) are retried without blocking a
%% scheduler until delivered or until the `send_deadline' (milliseconds, default 10000) passes,
%% and the calling process waits for the outcome; STATUS is latest-wins and the caller does not
%% wait; watchdog pings are not retried.
-module(vigil).

-export([ready/0, status/1, reloading/0, stopping/0, extend_timeout/1, errno/1, exit_status/1,
         mainpid/1, watchdog/1, notify/1, barrier/1, enabled/0]).

-type key() :: atom() | binary() | string().
-type value() :: binary() | string() | integer().
-type error() :: {error, inet:posix() | timeout | {invalid, key()}}.
-export_type([key/0, value/0, error/0]).

-define(STATE_CHANGES, [<<"READY">>, <<"RELOADING">>, <<"STOPPING">>, <<"ERRNO">>,
                        <<"EXIT_STATUS">>, <<"MAINPID">>, <<"EXTEND_TIMEOUT_USEC">>]).

%% @doc READY=1: start-up is finished. With `Type=notify', `systemctl start' returns now.
-spec ready() -> ok | error().
ready() ->
    deliver([{<<"READY">>, <<"1">>}]).

%% @doc STATUS=Text: a line for people, shown by `systemctl status'.
%%
%% Any text is safe here: control characters (newline, carriage return, tab, NUL) become
%% spaces, so an exception message can never add a line such as READY=1; backslashes are
%% written so that the manager shows them as typed; invalid UTF-8 becomes U+FFFD; the text is
%% cut at a character boundary to fit the 4096 bytes the manager reads.
-spec status(unicode:chardata()) -> ok | error().
status(Text) ->
    latest(vigil_nif:status(text_iodata(Text))).

%% @doc RELOADING=1 with MONOTONIC_USEC read from CLOCK_MONOTONIC, as `Type=notify-reload'
%% requires. Send {@link ready/0} when the reload is done.
-spec reloading() -> ok | error().
reloading() ->
    deliver([{<<"RELOADING">>, <<"1">>}, {<<"MONOTONIC_USEC">>, monotonic}]).

%% @doc STOPPING=1: shutdown has begun.
-spec stopping() -> ok | error().
stopping() ->
    deliver([{<<"STOPPING">>, <<"1">>}]).

%% @doc EXTEND_TIMEOUT_USEC: ask for `Ms' more milliseconds before the manager's start, stop or
%% watchdog timeout strikes, counted from now. Send it again before it runs out, e.g. between
%% the steps of a long migration at boot.
-spec extend_timeout(non_neg_integer()) -> ok | error().
extend_timeout(Ms) when is_integer(Ms), Ms >= 0 ->
    deliver([{<<"EXTEND_TIMEOUT_USEC">>, Ms * 1000}]);
extend_timeout(_) ->
    error(badarg).

%% @doc ERRNO=N: the service failed with this errno-style code.
-spec errno(non_neg_integer()) -> ok | error().
errno(N) when is_integer(N), N >= 0 ->
    deliver([{<<"ERRNO">>, N}]);
errno(_) ->
    error(badarg).

%% @doc EXIT_STATUS=N: the exit status the service is about to end with (0 to 255).
-spec exit_status(0..255) -> ok | error().
exit_status(N) when is_integer(N), N >= 0, N =< 255 ->
    deliver([{<<"EXIT_STATUS">>, N}]);
exit_status(_) ->
    error(badarg).

%% @doc MAINPID=OsPid: the service's main process is now this one.
-spec mainpid(pos_integer()) -> ok | error().
mainpid(OsPid) when is_integer(OsPid), OsPid > 0 ->
    deliver([{<<"MAINPID">>, OsPid}]);
mainpid(_) ->
    error(badarg).

%% @doc `ping' sends WATCHDOG=1 (not retried when the queue is full: the next ping follows);
%% `trigger' sends WATCHDOG=trigger, which makes the manager act as if the watchdog had
%% expired (delivered like a state change).
-spec watchdog(ping | trigger) -> ok | error().
watchdog(ping) ->
    vigil_nif:send([{<<"WATCHDOG">>, <<"1">>}]);
watchdog(trigger) ->
    deliver([{<<"WATCHDOG">>, <<"trigger">>}]);
watchdog(_) ->
    error(badarg).

%% @doc Send assignments as given, in one datagram, after checking every key and value: a key
%% or value the manager would read differently returns `{error, {invalid, Key}}' and nothing
%% is sent. Strings are taken as Unicode and sent as UTF-8; integers in decimal.
-spec notify([{key(), value()}]) -> ok | error().
notify(Pairs) when is_list(Pairs) ->
    case normalize(Pairs, []) of
        {ok, Normalized} -> send_by_kind(Normalized);
        {invalid, _} = Invalid -> {error, Invalid}
    end;
notify(_) ->
    error(badarg).

%% @doc BARRIER=1, as sd_notify_barrier(3): returns once the manager has processed every message
%% sent before, or `{error, timeout}' after `Timeout' milliseconds.
-spec barrier(timeout()) -> ok | error().
barrier(Timeout) when Timeout =:= infinity; is_integer(Timeout), Timeout >= 0 ->
    Deadline = case Timeout of
                   infinity -> infinity;
                   _ -> erlang:monotonic_time(millisecond) + Timeout
               end,
    start_barrier(Deadline, 1);
barrier(_) ->
    error(badarg).

%% @doc Whether a manager's address was given (`NOTIFY_SOCKET' was set when the application
%% started). When false, every call returns `ok' and sends nothing.
-spec enabled() -> boolean().
enabled() ->
    vigil_nif:enabled().

%% ---- internals ----

deliver(Pairs) ->
    case vigil_nif:send(Pairs) of
        {error, eagain} -> vigil_sender:deliver(Pairs);
        Result -> Result
    end.

send_by_kind(Pairs) ->
    Keys = [key_binary(Key) || {Key, _} <- Pairs],
    IsStateChange = lists:any(fun(K) -> lists:member(K, ?STATE_CHANGES) end, Keys)
        orelse lists:member({<<"WATCHDOG">>, <<"trigger">>},
                            [{key_binary(K), V} || {K, V} <- Pairs]),
    case {IsStateChange, Keys} of
        {true, _} -> deliver(Pairs);
        {false, [<<"STATUS">>]} -> latest(vigil_nif:send_latest(Pairs));
        {false, _} -> vigil_nif:send(Pairs)
    end.

%% A latest-wins message the full queue refused waits in the NIF; the sender retries it.
latest({error, eagain}) -> vigil_sender:latest_pending();
latest(Result) -> Result.

key_binary(Key) when is_atom(Key) -> atom_to_binary(Key, latin1);
key_binary(Key) -> iolist_to_binary(Key).

normalize([], Acc) ->
    {ok, lists:reverse(Acc)};
normalize([{Key, Value} | Rest], Acc) when is_binary(Value); is_integer(Value) ->
    check_key_type(Key),
    normalize(Rest, [{Key, Value} | Acc]);
normalize([{Key, Value} | Rest], Acc) when is_list(Value) ->
    check_key_type(Key),
    case unicode:characters_to_binary(Value) of
        Binary when is_binary(Binary) -> normalize(Rest, [{Key, Binary} | Acc]);
        _ -> {invalid, Key}
    end;
normalize(_, _) ->
    error(badarg).

check_key_type(Key) when is_atom(Key); is_binary(Key); is_list(Key) -> ok;
check_key_type(_) -> error(badarg).

%% Text for status/1 as iodata: binaries pass as they are (the NIF replaces invalid UTF-8),
%% code points are encoded as UTF-8.
text_iodata(Text) when is_binary(Text) ->
    Text;
text_iodata(Text) when is_list(Text) ->
    case unicode:characters_to_binary(Text) of
        Binary when is_binary(Binary) -> Binary;
        _ -> chardata_iodata(Text)
    end;
text_iodata(_) ->
    error(badarg).

chardata_iodata(Binary) when is_binary(Binary) -> Binary;
chardata_iodata([]) -> [];
chardata_iodata([Head | Tail]) -> [chardata_iodata(Head) | chardata_iodata(Tail)];
chardata_iodata(CodePoint) when is_integer(CodePoint), CodePoint >= 0 -> utf8(CodePoint);
chardata_iodata(_) -> error(badarg).

utf8(CodePoint) ->
    try <<CodePoint/utf8>>
    catch error:badarg -> <<16#FFFD/utf8>>
    end.

start_barrier(Deadline, Backoff) ->
    Ref = make_ref(),
    case vigil_nif:barrier_start(Ref) of
        {ok, Barrier} -> await_barrier(Barrier, Ref, Deadline);
        {error, eagain} -> retry_barrier(Deadline, Backoff);
        Result -> Result
    end.

retry_barrier(Deadline, Backoff) ->
    case remaining(Deadline) of
        0 ->
            {error, timeout};
        Remaining ->
            timer:sleep(min(Backoff, Remaining)),
            start_barrier(Deadline, min(Backoff * 2, 20))
    end.

await_barrier(Barrier, Ref, Deadline) ->
    receive
        {select, Barrier, Ref, ready_input} ->
            vigil_nif:barrier_close(Barrier)
    after remaining(Deadline) ->
        vigil_nif:barrier_close(Barrier),
        receive {select, Barrier, Ref, _} -> ok after 0 -> ok end,
        {error, timeout}
    end.

remaining(infinity) -> infinity;
remaining(Deadline) -> max(0, Deadline - erlang:monotonic_time(millisecond)).
