%% @private
%% @doc The watchdog's summary entry: what it measured, and the `WatchdogSec=' it recommends,
%% as one journal entry an operator finds with `journalctl MESSAGE_ID=...'. The fields and
%% when the entry is written are documented in vigil's edoc (Watchdog).
%%
%% The entry goes straight to journald's socket (`journal_socket'), whether or not the
%% application logs through vigil_journal_h, in one datagram that never blocks. Where nobody
%% listens there (no journald), the same message goes through logger, with the numbers as
%% metadata, so that it still lands somewhere.
-module(vigil_watchdog_summary).

-export([open/0, write/3, message_id/0]).

-include_lib("kernel/include/logger.hrl").

%% Generated once (systemd-id128 new): every summary entry carries it.
-define(MESSAGE_ID, <<"7ae7a1b7f796442bb549d9dfeacc97af">>).
%% notice, in the journal and through logger: OTP's default primary level is notice, at which
%% an info event would be dropped exactly where logger is the only way out.
-define(PRIORITY, <<"5">>).
%% The numbers, in the entry's order: VIGIL_WATCHDOG_<NAME> in the journal,
%% vigil_watchdog_<name> in logger's metadata. A number that is not known is left out.
-define(NUMBERS, [pings, skipped, send_errors, ticks, lateness_p50_us, lateness_p99_us,
                  lateness_max_us, longest_check_us, health_checks, check_timeout_ms,
                  interval_us, usec, recommended_sec, uptime_sec, last_ping_age_ms, enabled]).

%% Why the entry is written: every summary_interval, when the watchdog stops, or on
%% vigil:watchdog_summary/0.
-type reason() :: periodic | shutdown | requested.
-type summary() :: #{pings := non_neg_integer(),
                     skipped := non_neg_integer(),
                     send_errors := non_neg_integer(),
                     ticks := non_neg_integer(),
                     lateness_p50_us := non_neg_integer(),
                     lateness_p99_us := non_neg_integer(),
                     lateness_max_us := non_neg_integer(),
                     longest_check_us := non_neg_integer(),
                     health_checks := non_neg_integer(),
                     check_timeout_ms := non_neg_integer(),
                     interval_us := pos_integer(),
                     usec := pos_integer(),
                     recommended_sec := pos_integer(),
                     uptime_sec := non_neg_integer(),
                     last_ping_age_ms => non_neg_integer(),
                     enabled := 0 | 1}.
-export_type([reason/0, summary/0]).

%% @doc A socket for `journal_socket', or `undefined' when none can be opened (the entries
%% then go through logger). It is not connected: each entry names the address, so a journald
%% that starts or restarts later is found.
-spec open() -> vigil_nif:journal() | undefined.
open() ->
    case vigil_nif:journal_open(vigil_config:get(journal_socket), 0) of
        {ok, Journal} -> Journal;
        {error, _} -> undefined
    end.

%% @doc The MESSAGE_ID of every summary entry.
-spec message_id() -> binary().
message_id() ->
    ?MESSAGE_ID.

%% @doc Write the entry. `ok' when journald took it, or when there is no journald and logger
%% did; `{error, Posix}' when journald refused it (`eagain': its queue is full).
-spec write(reason(), summary(), vigil_nif:journal() | undefined) -> ok | {error, inet:posix()}.
write(Reason, Summary, Journal) ->
    Message = message(Summary),
    Numbers = [{reason, atom_to_binary(Reason)}
               | [{Name, integer_to_binary(maps:get(Name, Summary))}
                  || Name <- ?NUMBERS, is_map_key(Name, Summary)]],
    case send(Journal, Message, Numbers) of
        {error, Posix} when Posix =:= enoent; Posix =:= econnrefused; Posix =:= enotdir;
                            Posix =:= eacces; Posix =:= no_journal ->
            log(Message, Numbers);
        Result ->
            Result
    end.

send(undefined, _Message, _Numbers) ->
    {error, no_journal};
send(Journal, Message, Numbers) ->
    Fields = [{<<"MESSAGE">>, Message},
              {<<"PRIORITY">>, ?PRIORITY},
              {<<"SYSLOG_IDENTIFIER">>, vigil_journal_h:default_identifier()},
              {<<"MESSAGE_ID">>, ?MESSAGE_ID}
              | [{<<"VIGIL_WATCHDOG_", (string:uppercase(atom_to_binary(Name)))/binary>>, Value}
                 || {Name, Value} <- Numbers]],
    case vigil_nif:journal_send(Journal, Fields) of
        ok -> ok;
        {error, Posix} when is_atom(Posix) -> {error, Posix};
        %% Never: every name above is one journald keeps.
        {error, {invalid, _}} -> {error, einval}
    end.

%% vigil_journal_h, where a handler has it, turns message_id into MESSAGE_ID and
%% vigil_watchdog_pings into VIGIL_WATCHDOG_PINGS, as in the entry above.
log(Message, Numbers) ->
    Meta = maps:from_list([{message_id, ?MESSAGE_ID}
                           | [{meta_key(Name), meta_value(Name, Value)}
                              || {Name, Value} <- Numbers]]),
    ?LOG_NOTICE("~ts", [Message], Meta),
    ok.

meta_key(Name) ->
    binary_to_atom(<<"vigil_watchdog_", (atom_to_binary(Name))/binary>>).

meta_value(reason, Value) -> binary_to_atom(Value);
meta_value(_Name, Value) -> binary_to_integer(Value).

%% "watchdog: 1234 pings in 3600 s, 0 skipped, lateness p50 0.2 ms p99 1.1 ms max 3.4 ms,
%% longest health check 12 ms; recommended WatchdogSec=6s (now 10s)"
message(#{pings := Pings, skipped := Skipped, send_errors := Errors, uptime_sec := Uptime,
          lateness_p50_us := P50, lateness_p99_us := P99, lateness_max_us := Max,
          recommended_sec := Recommended, usec := Usec} = Summary) ->
    SendErrors = case Errors of
                     0 -> "";
                     _ -> io_lib:format(", ~b send errors", [Errors])
                 end,
    Text = io_lib:format("watchdog: ~b pings in ~b s, ~b skipped~ts, lateness p50 ~ts p99 ~ts "
                         "max ~ts, ~ts; recommended WatchdogSec=~bs (now ~ts)",
                         [Pings, Uptime, Skipped, SendErrors, ms(P50), ms(P99), ms(Max),
                          checks(Summary), Recommended, seconds(Usec)]),
    unicode:characters_to_binary(Text).

checks(#{health_checks := 0}) -> "no health checks";
checks(#{longest_check_us := Us}) -> ["longest health check ", ms(Us)].

ms(Us) ->
    [float_to_list(Us / 1000, [{decimals, 2}, compact]), " ms"].

seconds(Usec) when Usec rem 1000000 =:= 0 ->
    [integer_to_list(Usec div 1000000), "s"];
seconds(Usec) ->
    [float_to_list(Usec / 1000000, [{decimals, 3}, compact]), "s"].
