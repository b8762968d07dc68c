%% @doc A logger handler that writes each event to the systemd journal, over journald's native
%% protocol (systemd's `docs/JOURNAL_NATIVE_PROTOCOL.md').
%%
%% The handler has no process: the socket is held by the NIF, and `log/2' runs in the process
%% that logs, sends one datagram without blocking, and returns. So it can sit in kernel's
%% configuration and receive the events of the boot, before any application starts:
%% ```
%% {kernel, [{logger, [{handler, journal, vigil_journal_h, #{}}]}]}
%% '''
%% or be added at run time with `logger:add_handler(journal, vigil_journal_h, #{})'. Where there
%% is no journal socket, adding it returns `{error, {no_journal, Path}}'.
%%
%% <h3>Fields</h3>
%% <ul>
%% <li>`MESSAGE': the event formatted by the handler's formatter. Without one, or with
%%     `logger_formatter' and no `template', that is `logger_formatter' with template `[msg]'
%%     and `single_line => false' (unless given): level, time and place are fields of their
%%     own. A formatter that crashes gives a `MESSAGE' naming the crash and the event.</li>
%% <li>`PRIORITY': the level as syslog's digit: emergency 0, alert 1, critical 2, error 3,
%%     warning 4, notice 5, info 6, debug 7.</li>
%% <li>`SYSLOG_IDENTIFIER': see `syslog_identifier' below.</li>
%% <li>`CODE_FUNC' (`Module:Function/Arity'), `CODE_FILE', `CODE_LINE' from the `mfa',
%%     `file' and `line' metadata; `ERL_PID', `ERL_DOMAIN' (the domain joined with `.') and
%%     `ERL_NODE' (when distributed).</li>
%% <li>Every other metadata key (see `fields_allow' and `fields_deny'), its name mapped to one
%%     journald keeps: upper case, any character outside `[A-Z0-9_]' becomes `_', a name
%%     starting with a digit or `_' (or equal to a field above) gets the prefix `X_', and the
%%     result is cut to 64 characters. `request_id' becomes `REQUEST_ID'. Two keys may map to
%%     the same name: both are sent (journald keeps repeated fields). journald ignores an
%%     entry of more than 1024 fields: past 1000 metadata fields the rest are left out and
%%     counted in `N_FIELDS_DROPPED'.</li>
%% </ul>
%% Values: binaries are sent as their bytes, text as UTF-8 (a list of code points up to 255 is
%% Latin-1 text, encoded as UTF-8), other terms as `~0tP' with `term_depth' and
%% `term_chars_limit'. A field whose value is empty is left out. A value with a newline is sent
%% in the protocol's binary form, so it arrives whole.
%%
%% <h3>Configuration</h3>
%% The handler's `config' map; every key is optional:
%% <ul>
%% <li>`socket_path': journald's socket (default `"/run/systemd/journal/socket"'); `"@name"'
%%     for an abstract name;</li>
%% <li>`syslog_identifier': non-empty text (default: `$RELEASE_NAME', else the release of the
%%     boot script, else the node's name before the `@', else `"erlang"'; never `beam.smp');</li>
%% <li>`fields_allow': `all' (default: every metadata key but those mapped above and logger's
%%     own: `gl', `time', `report_cb', `error_logger', `logger_formatter') or a list of the
%%     metadata keys to send;</li>
%% <li>`fields_deny': metadata keys never sent (default `[]');</li>
%% <li>`burst_limit_enable' (default `true'), `burst_limit_max_count' (default 500),
%%     `burst_limit_window_time' (milliseconds, default 1000): as OTP's own handlers, at most
%%     that many events per window are sent, the rest are dropped;</li>
%% <li>`drop_report_interval': at most one drop summary per this many milliseconds
%%     (default 10000);</li>
%% <li>`max_entry_size': entries larger than this many bytes are dropped as `too_large' (default
%%     67108864, 64 MiB; at most 805306368, journald's own limit). journald 252 takes entries up to
%%     its limit through a sealed memfd; journald releases from 2026 on take at most 32 MiB from a
%%     service that does not run as root;</li>
%% <li>`send_buffer': the socket's send buffer in bytes (default 8388608, as journald's own
%%     client asks; raised past `net.core.wmem_max' only with `CAP_NET_ADMIN');</li>
%% <li>`term_depth' (default 30) and `term_chars_limit' (default 65536): how much of a term
%%     is shown when the handler formats it itself; positive integers or `unlimited'.</li>
%% </ul>
%% A key that is unknown or a value that is not valid makes adding or changing the handler
%% return `{error, {invalid_config, vigil_journal_h, #{Key => Value}}}'.
%%
%% <h3>Drops</h3>
%% The caller is never blocked: an event is dropped, and counted by reason, when
%% <ul>
%% <li>`burst': over the burst limit;</li>
%% <li>`queue_full': journald's queue is full (`EAGAIN'). Not retried: a retry would need a
%%     process and would reorder entries, and the queue is deep under systemd (512 datagrams,
%%     8 MiB);</li>
%% <li>`too_large': the entry is over `max_entry_size', or over journald's 1024 fields;</li>
%% <li>`no_journal': nobody listens on the socket (journald stopped);</li>
%% <li>`error': anything else, a crash of the handler's own code included (`log/2' never
%%     raises, so logger never removes the handler).</li>
%% </ul>
%% {@link dropped/1} reads the counts. After drops, the next entry the journal accepts is
%% followed by one summary entry, at most once per `drop_report_interval':
%% `"N entries dropped in the last T s: burst N1, queue_full N2"' (T since the last summary),
%% with the fields `N_DROPPED'
%% and `N_DROPPED_BURST', `N_DROPPED_QUEUE_FULL', ... and `PRIORITY=4'.
-module(vigil_journal_h).

-include_lib("kernel/include/file.hrl").

%% OTP 27 declares logger's handler callbacks as a behaviour, and the compiler checks them
%% against it; OTP 25 and 26 have no logger_handler module, and naming it there is a warning.
-if(?OTP_RELEASE >= 27).
-behaviour(logger_handler).
-endif.

%% logger's handler callbacks
-export([adding_handler/1, changing_config/3, removing_handler/1, log/2, filter_config/1]).
-export([dropped/1]).
%% Shared with the watchdog's summary entry (vigil_watchdog_summary), which writes to the journal
%% without the handler.
-export([default_identifier/0, default_socket/0]).

-type drop_reason() :: burst | queue_full | too_large | no_journal | error.
-export_type([drop_reason/0]).

-define(DEFAULT_SOCKET, <<"/run/systemd/journal/socket">>).
-define(REASONS, [burst, queue_full, too_large, no_journal, error]).
%% Fields the handler sets itself: metadata mapped to one of these gets a prefix.
-define(OWN_KEYS, [<<"MESSAGE">>, <<"PRIORITY">>, <<"SYSLOG_IDENTIFIER">>, <<"CODE_FILE">>,
                   <<"CODE_LINE">>, <<"CODE_FUNC">>, <<"ERL_PID">>, <<"ERL_DOMAIN">>,
                   <<"ERL_NODE">>, <<"N_FIELDS_DROPPED">>]).
%% Metadata sent as fields of their own, or logger's internals.
-define(MAPPED_META, [pid, gl, time, mfa, file, line, domain, report_cb, error_logger,
                      logger_formatter]).
-define(DEFAULT_FORMATTER, {logger_formatter, #{template => [msg], single_line => false}}).
%% journald ignores an entry with more than 1024 fields.
-define(MAX_META_FIELDS, 1000).

%% Atomics: the burst window, the drop summary's clock, and per reason the drops and how many
%% of them were reported.
-define(WINDOW_START, 1).
-define(WINDOW_COUNT, 2).
-define(LAST_REPORT, 3).
-define(SINCE, 4).
-define(DROPPED_ALL, 5).
-define(REPORTED_ALL, 6).
-define(FIRST_REASON, 7).
-define(N_ATOMICS, (?FIRST_REASON + 2 * length(?REASONS))).
%% LAST_REPORT before the first summary: that one goes at once.
-define(NEVER, -(1 bsl 63)).


%% ---- handler callbacks ----

%% @doc Check the configuration, open the socket and fill in the defaults.
-spec adding_handler(logger:handler_config()) ->
          {ok, logger:handler_config()} | {error, term()}.
adding_handler(Config) ->
    UserConfig = maps:get(config, Config, #{}),
    case validate(maps:merge(defaults(), maps:remove(state, UserConfig))) of
        {ok, HConfig} -> start(Config, HConfig, new_atomics());
        {error, _} = Error -> Error
    end.

%% @doc `set' replaces the configuration (defaults for what is not given), `update' changes
%% the keys given. The drop counts are kept; the socket is opened again only when
%% `socket_path' or `send_buffer' changes.
-spec changing_config(set | update, logger:handler_config(), logger:handler_config()) ->
          {ok, logger:handler_config()} | {error, term()}.
changing_config(SetOrUpdate, #{config := #{state := OldState} = Old}, New) ->
    Base = case SetOrUpdate of
               set -> defaults();
               update -> maps:remove(state, Old)
           end,
    Given = maps:remove(state, maps:get(config, New, #{})),
    case validate(maps:merge(Base, Given)) of
        {ok, HConfig} -> restart(New, HConfig, maps:remove(state, Old), OldState);
        {error, _} = Error -> Error
    end.

%% @doc The socket closes once no configuration refers to it; the drop counts are forgotten.
-spec removing_handler(logger:handler_config()) -> ok.
removing_handler(#{id := Id}) ->
    _ = persistent_term:erase({?MODULE, Id}),
    ok.

%% @doc The configuration as `logger:get_handler_config/1' shows it: without the handler's
%% internal state.
-spec filter_config(logger:handler_config()) -> logger:handler_config().
filter_config(#{config := HConfig} = Config) ->
    Config#{config => maps:remove(state, HConfig)};
filter_config(Config) ->
    Config.

%% @doc Send one event. Never raises and never blocks; whatever is not sent is counted.
-spec log(logger:log_event(), logger:handler_config()) -> ok.
log(Event, Config) ->
    try
        #{config := #{state := State}} = Config,
        log_admitted(Event, Config, State)
    catch
        _:_ -> count_crash(Config)
    end.

%% @doc Events dropped since the handler was added, by reason.
-spec dropped(logger:handler_id()) ->
          {ok, #{drop_reason() => non_neg_integer()}} | {error, term()}.
dropped(HandlerId) ->
    case persistent_term:get({?MODULE, HandlerId}, undefined) of
        undefined -> {error, {not_found, HandlerId}};
        A -> {ok, maps:from_list([{R, atomics:get(A, dropped_ix(R))} || R <- ?REASONS])}
    end.

%% ---- configuration ----

defaults() ->
    #{socket_path => ?DEFAULT_SOCKET,
      syslog_identifier => default_identifier(),
      fields_allow => all,
      fields_deny => [],
      burst_limit_enable => true,
      burst_limit_max_count => 500,
      burst_limit_window_time => 1000,
      drop_report_interval => 10000,
      send_buffer => 8388608,
      max_entry_size => 67108864,
      term_depth => 30,
      term_chars_limit => 65536}.

new_atomics() ->
    A = atomics:new(?N_ATOMICS, [{signed, true}]),
    Now = now_ms(),
    atomics:put(A, ?WINDOW_START, Now),
    atomics:put(A, ?LAST_REPORT, ?NEVER),
    atomics:put(A, ?SINCE, Now),
    A.

%% The counts are also kept under the handler's id for dropped/1: logger shows the
%% configuration through filter_config/1, without the state.
start(#{id := Id} = Config, HConfig, Atomics) ->
    #{socket_path := Path, send_buffer := SendBuffer} = HConfig,
    case open_journal(Path, SendBuffer) of
        {ok, Journal} ->
            persistent_term:put({?MODULE, Id}, Atomics),
            {ok, finish(Config, HConfig, state(HConfig, Journal, Atomics))};
        {error, _} = Error ->
            Error
    end.

restart(New, HConfig, Old, #{journal := Journal, atomics := A}) ->
    Keep = [socket_path, send_buffer],
    case maps:with(Keep, HConfig) =:= maps:with(Keep, Old) of
        true -> {ok, finish(New, HConfig, state(HConfig, Journal, A))};
        false -> start(New, HConfig, A)
    end.

finish(Config, HConfig, State) ->
    Config#{config => HConfig#{state => State},
            formatter => default_formatter(maps:get(formatter, Config, undefined))}.

%% What log/2 needs, computed once.
state(HConfig, Journal, Atomics) ->
    #{journal => Journal,
      atomics => Atomics,
      identifier => unicode:characters_to_binary(maps:get(syslog_identifier, HConfig)),
      node => node_field(),
      allow => maps:get(fields_allow, HConfig),
      deny => maps:get(fields_deny, HConfig),
      burst => burst(HConfig),
      report_interval => maps:get(drop_report_interval, HConfig),
      max_entry => maps:get(max_entry_size, HConfig),
      depth => maps:get(term_depth, HConfig),
      chars => maps:get(term_chars_limit, HConfig)}.

burst(#{burst_limit_enable := false}) ->
    off;
burst(#{burst_limit_max_count := Max, burst_limit_window_time := Window}) ->
    {Max, Window}.

node_field() ->
    case node() of
        nonode@nohost -> <<>>;
        Node -> atom_to_binary(Node, utf8)
    end.

default_formatter({logger_formatter, FConfig}) when is_map(FConfig) ->
    {logger_formatter, maps:merge(#{single_line => false},
                                  maps:merge(#{template => [msg]}, FConfig))};
default_formatter({_, _} = Formatter) ->
    Formatter;
default_formatter(_) ->
    ?DEFAULT_FORMATTER.

open_journal(Path, SendBuffer) ->
    case socket_exists(Path) of
        true ->
            case vigil_nif:journal_open(Path, SendBuffer) of
                {ok, Journal} -> {ok, Journal};
                {error, Posix} -> {error, {no_journal, Path, Posix}}
            end;
        false ->
            {error, {no_journal, Path}}
    end.

%% @doc The default `socket_path': journald's socket for native entries.
-spec default_socket() -> binary().
default_socket() ->
    ?DEFAULT_SOCKET.

%% An abstract name cannot be checked without sending to it.
socket_exists(<<"@", _/binary>>) ->
    true;
socket_exists(Path) ->
    case file:read_file_info(Path) of
        {ok, #file_info{type = other}} -> true;
        _ -> false
    end.

%% @doc The default `syslog_identifier': the release name, as the journal shows the service's
%% other output.
-spec default_identifier() -> binary().
default_identifier() ->
    first_name([os:getenv("RELEASE_NAME"), boot_release(), node_name()], <<"erlang">>).

first_name([Name | Rest], Default) ->
    case is_list(Name) andalso Name =/= "" andalso Name =/= "beam.smp" of
        true -> unicode:characters_to_binary(Name);
        false -> first_name(Rest, Default)
    end;
first_name([], Default) ->
    Default.

%% A release's boot script is named after it; erl's own is "Erlang/OTP" (once
%% "OTP  APN 181 01"), which no release name can be.
boot_release() ->
    {Name, _Vsn} = init:script_id(),
    case re:run(Name, "^[A-Za-z0-9_.-]+$", [{capture, none}]) of
        match -> Name;
        nomatch -> false
    end.

node_name() ->
    case node() of
        nonode@nohost -> false;
        Node -> hd(string:split(atom_to_list(Node), "@"))
    end.

validate(HConfig) ->
    case [{K, V} || {K, V} <- maps:to_list(HConfig), not valid(K, V)] of
        [] -> {ok, HConfig#{socket_path := path_binary(maps:get(socket_path, HConfig))}};
        Bad -> {error, {invalid_config, ?MODULE, maps:from_list(Bad)}}
    end.

valid(socket_path, P) -> is_binary(path_binary(P));
valid(syslog_identifier, I) -> is_binary(text(I)) andalso text(I) =/= <<>>;
valid(fields_allow, all) -> true;
valid(fields_allow, L) -> is_list(L);
valid(fields_deny, L) -> is_list(L);
valid(burst_limit_enable, B) -> is_boolean(B);
valid(burst_limit_max_count, N) -> is_integer(N) andalso N > 0;
valid(burst_limit_window_time, N) -> is_integer(N) andalso N > 0;
valid(drop_report_interval, N) -> is_integer(N) andalso N > 0;
valid(send_buffer, N) -> is_integer(N) andalso N >= 0 andalso N =< 1 bsl 30;
valid(max_entry_size, N) -> is_integer(N) andalso N > 0 andalso N =< 805306368;
valid(term_depth, N) -> N =:= unlimited orelse (is_integer(N) andalso N > 0);
valid(term_chars_limit, N) -> N =:= unlimited orelse (is_integer(N) andalso N > 0);
valid(_, _) -> false.

path_binary(P) when is_binary(P) -> P;
path_binary(P) -> text(P).

text(T) ->
    try unicode:characters_to_binary(T) of
        B when is_binary(B) -> B;
        _ -> error
    catch
        _:_ -> error
    end.

%% ---- logging ----

log_admitted(Event, Config, State) ->
    case admit(State) of
        true -> send(fields(Event, Config, State), State);
        false -> drop(State, burst)
    end.

%% At most Max events per window; the window restarts with the first event after it ends.
admit(#{burst := off}) ->
    true;
admit(#{burst := {Max, Window}, atomics := A}) ->
    Now = now_ms(),
    Start = atomics:get(A, ?WINDOW_START),
    case Now - Start >= Window andalso atomics:compare_exchange(A, ?WINDOW_START, Start, Now) of
        ok ->
            atomics:put(A, ?WINDOW_COUNT, 1),
            true;
        _ ->
            atomics:add_get(A, ?WINDOW_COUNT, 1) =< Max
    end.

send(Fields, #{journal := Journal, max_entry := Max} = State) ->
    case entry_size(Fields) =< Max andalso vigil_nif:journal_send(Journal, Fields) of
        false -> drop(State, too_large);
        ok -> report_drops(State);
        {error, Reason} -> drop(State, drop_reason(Reason))
    end.

%% What the entry comes to, near enough: each field's name, value and framing.
entry_size(Fields) ->
    lists:foldl(fun({K, V}, Sum) -> Sum + byte_size(K) + iolist_size(V) + 10 end, 0, Fields).

drop_reason(eagain) -> queue_full;
drop_reason(emsgsize) -> too_large;
drop_reason(e2big) -> too_large;
drop_reason(enoent) -> no_journal;
drop_reason(econnrefused) -> no_journal;
drop_reason(_) -> error.

drop(#{atomics := A}, Reason) ->
    atomics:add(A, dropped_ix(Reason), 1),
    atomics:add(A, ?DROPPED_ALL, 1).

count_crash(Config) ->
    try
        #{config := #{state := State}} = Config,
        drop(State, error)
    catch
        _:_ -> ok
    end.

dropped_ix(Reason) -> ?FIRST_REASON + index(Reason, ?REASONS).

reported_ix(Reason) -> dropped_ix(Reason) + length(?REASONS).

index(X, [X | _]) -> 0;
index(X, [_ | T]) -> 1 + index(X, T).

now_ms() ->
    erlang:monotonic_time(millisecond).

%% ---- the drop summary ----

report_drops(#{atomics := A} = State) ->
    case atomics:get(A, ?DROPPED_ALL) > atomics:get(A, ?REPORTED_ALL) of
        true -> maybe_report(State);
        false -> ok
    end.

%% One process wins the right to report per interval; the others go on.
maybe_report(#{atomics := A, report_interval := Interval} = State) ->
    Now = now_ms(),
    Last = atomics:get(A, ?LAST_REPORT),
    Due = Last =:= ?NEVER orelse Now - Last >= Interval,
    case Due andalso atomics:compare_exchange(A, ?LAST_REPORT, Last, Now) of
        ok -> report(State, Now);
        _ -> ok
    end.

report(#{atomics := A, journal := Journal} = State, Now) ->
    Counts = [{R, N} || R <- ?REASONS,
                        N <- [atomics:get(A, dropped_ix(R)) - atomics:get(A, reported_ix(R))],
                        N > 0],
    Seconds = max(1, (Now - atomics:get(A, ?SINCE) + 999) div 1000),
    case vigil_nif:journal_send(Journal, report_fields(Counts, Seconds, State)) of
        ok ->
            atomics:put(A, ?SINCE, Now),
            lists:foreach(fun({R, N}) -> atomics:add(A, reported_ix(R), N) end, Counts),
            atomics:add(A, ?REPORTED_ALL, lists:sum([N || {_, N} <- Counts]));
        {error, _} ->
            ok
    end.

report_fields(Counts, Seconds, #{identifier := Identifier}) ->
    Total = lists:sum([N || {_, N} <- Counts]),
    Message = io_lib:format("~b ~ts dropped in the last ~b s: ~ts",
                            [Total, entries(Total), Seconds, lists:join(", ", [io_lib:format("~ts ~b", [R, N])
                                                                || {R, N} <- Counts])]),
    [{<<"MESSAGE">>, Message}, {<<"PRIORITY">>, <<"4">>},
     {<<"SYSLOG_IDENTIFIER">>, Identifier}, {<<"N_DROPPED">>, integer_to_binary(Total)}
     | [{<<"N_DROPPED_", (string:uppercase(atom_to_binary(R)))/binary>>, integer_to_binary(N)}
        || {R, N} <- Counts]].

entries(1) -> "entry";
entries(_) -> "entries".

%% ---- fields ----

fields(#{level := Level, meta := Meta} = Event, Config, State) ->
    #{identifier := Identifier, node := Node} = State,
    Own = [{<<"MESSAGE">>, message(Event, Config, State)},
           {<<"PRIORITY">>, priority(Level)},
           {<<"SYSLOG_IDENTIFIER">>, Identifier},
           {<<"CODE_FILE">>, meta_value(file, Meta, State)},
           {<<"CODE_LINE">>, meta_value(line, Meta, State)},
           {<<"CODE_FUNC">>, code_func(Meta, State)},
           {<<"ERL_PID">>, meta_value(pid, Meta, State)},
           {<<"ERL_DOMAIN">>, domain(Meta, State)},
           {<<"ERL_NODE">>, Node}
           | metadata_fields(Meta, State)],
    [{K, V} || {K, V} <- Own, iolist_size(V) > 0].

priority(emergency) -> <<"0">>;
priority(alert) -> <<"1">>;
priority(critical) -> <<"2">>;
priority(error) -> <<"3">>;
priority(warning) -> <<"4">>;
priority(notice) -> <<"5">>;
priority(info) -> <<"6">>;
priority(debug) -> <<"7">>;
priority(_) -> <<"6">>.

%% The default formatter gives text messages as they are: the same bytes, without
%% logger_formatter's pass over every character (seconds for a message of megabytes).
message(#{msg := {string, Text}} = Event, #{formatter := Formatter} = Config, State)
  when Formatter =:= ?DEFAULT_FORMATTER ->
    case text(Text) of
        error -> formatted(Event, Config, State);
        Bin -> Bin
    end;
message(Event, Config, State) ->
    formatted(Event, Config, State).

formatted(Event, Config, State) ->
    {Module, FConfig} = maps:get(formatter, Config),
    try Module:format(Event, FConfig) of
        Chardata -> chardata(Chardata, State)
    catch
        Class:Reason -> formatter_crash(Module, {Class, Reason}, Event, State)
    end.

formatter_crash(Module, Crash, Event, State) ->
    Text = ["formatter ", term(Module, State), " crashed: ", term(Crash, State),
            "; event: ", term(Event, State)],
    unicode:characters_to_binary(Text).

code_func(#{mfa := {M, F, A}}, _State) when is_atom(M), is_atom(F), is_integer(A) ->
    unicode:characters_to_binary([atom_to_list(M), ":", atom_to_list(F), "/",
                                  integer_to_list(A)]);
code_func(#{mfa := MFA}, State) ->
    term(MFA, State);
code_func(_, _State) ->
    <<>>.

domain(#{domain := Domain}, State) when is_list(Domain), Domain =/= [] ->
    case lists:all(fun is_atom/1, Domain) of
        true -> unicode:characters_to_binary(lists:join(".", [atom_to_list(D) || D <- Domain]));
        false -> term(Domain, State)
    end;
domain(#{domain := Domain}, State) ->
    term(Domain, State);
domain(_, _State) ->
    <<>>.

meta_value(Key, Meta, State) ->
    case Meta of
        #{Key := Value} -> value(Value, State);
        _ -> <<>>
    end.

%% Past the field limit the first keys in term order are kept, and the rest counted.
metadata_fields(Meta, State) ->
    Keys = lists:sort([K || K <- maps:keys(Meta), wanted(K, State)]),
    Fields = [{field_key(K), value(maps:get(K, Meta), State)}
              || K <- lists:sublist(Keys, ?MAX_META_FIELDS)],
    case length(Keys) - ?MAX_META_FIELDS of
        Left when Left > 0 -> Fields ++ [{<<"N_FIELDS_DROPPED">>, integer_to_binary(Left)}];
        _ -> Fields
    end.

wanted(Key, #{allow := all, deny := Deny}) ->
    not lists:member(Key, ?MAPPED_META) andalso not lists:member(Key, Deny);
wanted(Key, #{allow := Allow, deny := Deny}) ->
    lists:member(Key, Allow) andalso not lists:member(Key, Deny).

%% A metadata key as a name journald keeps (journal_field_valid()).
field_key(Key) ->
    Mapped = << <<(key_char(C))>> || <<C/utf8>> <= key_text(Key) >>,
    Valid = prefixed(Mapped),
    Cut = binary:part(Valid, 0, min(64, byte_size(Valid))),
    case lists:member(Cut, ?OWN_KEYS) of
        true -> binary:part(<<"X_", Cut/binary>>, 0, min(64, byte_size(Cut) + 2));
        false -> Cut
    end.

key_text(Key) when is_atom(Key) ->
    atom_to_binary(Key, utf8);
key_text(Key) when is_binary(Key); is_list(Key) ->
    case text(Key) of
        error -> unicode:characters_to_binary(io_lib:format("~0tp", [Key]));
        Text -> Text
    end;
key_text(Key) ->
    unicode:characters_to_binary(io_lib:format("~0tp", [Key])).

key_char(C) when C >= $a, C =< $z -> C - 32;
key_char(C) when (C >= $A andalso C =< $Z) orelse (C >= $0 andalso C =< $9) -> C;
key_char(_) -> $_.

prefixed(<<C, _/binary>> = Key) when C =:= $_; C >= $0, C =< $9 -> <<"X_", Key/binary>>;
prefixed(<<>>) -> <<"X_">>;
prefixed(Key) -> Key.

%% ---- values ----

value(V, _State) when is_binary(V) -> V;
value(V, _State) when is_atom(V) -> atom_to_binary(V, utf8);
value(V, _State) when is_integer(V) -> integer_to_binary(V);
value(V, _State) when is_float(V) -> float_to_binary(V, [short]);
value(V, _State) when is_pid(V) -> list_to_binary(pid_to_list(V));
value(V, State) when is_list(V) ->
    case io_lib:printable_unicode_list(V) of
        true -> unicode:characters_to_binary(V);
        false -> term(V, State)
    end;
value(V, State) ->
    term(V, State).

%% A formatter's output as bytes: text as UTF-8, binaries as they are; anything that is not
%% chardata is shown as a term.
chardata(Data, State) ->
    case text(Data) of
        error -> bytes(Data, State);
        Bin -> Bin
    end.

bytes(Data, State) ->
    try
        iolist_to_binary(walk(Data))
    catch
        _:_ -> term(Data, State)
    end.

walk(B) when is_binary(B) -> B;
walk(C) when is_integer(C) -> <<C/utf8>>;
walk([H | T]) -> [walk(H) | walk(T)];
walk([]) -> [].

term(T, #{depth := Depth, chars := Chars}) ->
    Options = case Chars of
                  unlimited -> [];
                  _ -> [{chars_limit, Chars}]
              end,
    Text = case Depth of
               unlimited -> io_lib:format("~0tp", [T], Options);
               _ -> io_lib:format("~0tP", [T, Depth], Options)
           end,
    unicode:characters_to_binary(Text).
