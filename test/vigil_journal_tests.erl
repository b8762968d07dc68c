%% Tests of the journal handler (vigil_journal_h) against a real AF_UNIX datagram receiver that
%% reads entries as journald's native transport does: KEY=VALUE lines, binary fields, and
%% entries passed as a file descriptor.
-module(vigil_journal_tests).

-include_lib("eunit/include/eunit.hrl").
-include_lib("kernel/include/logger.hrl").
%% PropEr without its header (Debian's erlang-proper ships none): ?FORALL is proper:forall/2,
%% ?LET is proper_types:bind/3.
-import(proper_types, [oneof/1, non_empty/1, list/1, atom/0, binary/0, any/0, range/2,
                       integer/0, elements/1]).

-compile([export_all, nowarn_export_all]).

-define(DOMAIN, [vigil_journal_test]).

%% ---- a receiver that reads entries as journald does ----

open_receiver() ->
    Dir = filename:join("/tmp", "vigil-journal-" ++ os:getpid() ++ "-"
                        ++ integer_to_list(erlang:unique_integer([positive]))),
    ok = file:make_dir(Dir),
    Path = list_to_binary(filename:join(Dir, "socket")),
    bind(#{dir => Dir, path => Path}).

bind(#{path := Path} = R) ->
    {ok, S} = socket:open(local, dgram, default),
    ok = socket:bind(S, #{family => local, path => Path}),
    R#{socket => S}.

close_socket(#{socket := S, path := Path} = R) ->
    _ = socket:close(S),
    _ = file:delete(Path),
    R#{socket => undefined}.

close_receiver(#{dir := Dir} = R) ->
    _ = close_socket(R),
    file:del_dir_r(Dir).

%% One entry as [{Key, Value}] in order, or timeout. A datagram with an empty payload and one
%% descriptor is an entry passed as a file, read through /proc as journald maps it.
recv_entry(R) ->
    recv_entry(R, 1000).

recv_entry(#{socket := S}, Timeout) ->
    case socket:recvmsg(S, 1 bsl 22, 256, [], Timeout) of
        {ok, #{iov := Iov} = Msg} ->
            Payload = iolist_to_binary(Iov),
            {ok, parse(entry_bytes(Payload, maps:get(ctrl, Msg, [])))};
        {error, timeout} ->
            timeout
    end.

entry_bytes(<<>>, [#{level := socket, type := rights, data := <<Fd:32/native>>}]) ->
    {ok, Bytes} = file:read_file("/proc/self/fd/" ++ integer_to_list(Fd)),
    {file, Bytes};
entry_bytes(Payload, []) ->
    Payload.

recv_all(R) ->
    case recv_entry(R, 50) of
        {ok, E} -> [E | recv_all(R)];
        timeout -> []
    end.

%% journald-native.c's reading; anything it would drop or cut short fails here instead.
parse({file, Bytes}) -> [{'$file', true} | parse(Bytes)];
parse(<<>>) -> [];
parse(Bin) ->
    {Pos, 1} = binary:match(Bin, <<"\n">>),
    ?assert(Pos > 0),
    <<Line:Pos/binary, "\n", Rest/binary>> = Bin,
    case binary:match(Line, <<"=">>) of
        {Eq, 1} ->
            <<Key:Eq/binary, "=", Value/binary>> = Line,
            [{Key, Value} | parse(Rest)];
        nomatch ->
            <<Len:64/little, Rest1/binary>> = Rest,
            <<Value:Len/binary, "\n", Rest2/binary>> = Rest1,
            [{Line, Value} | parse(Rest2)]
    end.

field(Key, Entry) ->
    proplists:get_value(Key, Entry).

%% journal_field_valid()
valid_key(Key) ->
    re:run(Key, "^[A-Z][A-Z0-9_]{0,63}$", [{capture, none}]) =:= match.

%% ---- fixtures ----

%% The handler sees only this suite's events (domain vigil_journal_test), at every level; the
%% default handler none of them.
setup(HConfig) ->
    R = open_receiver(),
    Primary = logger:get_primary_config(),
    ok = logger:set_primary_config(level, all),
    _ = logger:add_handler_filter(default, vigil_journal_test,
                                  {fun logger_filters:domain/2, {stop, sub, ?DOMAIN}}),
    ok = logger:add_handler(journal_test, vigil_journal_h, handler_config(R, HConfig)),
    R#{primary => Primary}.

handler_config(R, HConfig) ->
    #{config => maps:merge(#{socket_path => maps:get(path, R),
                             syslog_identifier => "vigil-test"}, HConfig),
      filter_default => stop,
      filters => [{only_tests, {fun logger_filters:domain/2, {log, sub, ?DOMAIN}}}]}.

cleanup(#{primary := Primary} = R) ->
    _ = logger:remove_handler(journal_test),
    _ = logger:remove_handler(capture),
    _ = logger:remove_handler_filter(default, vigil_journal_test),
    ok = logger:set_primary_config(Primary),
    close_receiver(R).

with(HConfig, Tests) ->
    {foreach, fun() -> setup(HConfig) end, fun cleanup/1,
     [fun(R) -> {atom_to_list(Name), fun() -> ?MODULE:Name(R) end} end || Name <- Tests]}.

meta() ->
    #{domain => ?DOMAIN}.

meta(Extra) ->
    maps:merge(Extra, meta()).

installed() ->
    lists:member(journal_test, logger:get_handler_ids()).

dropped() ->
    {ok, Dropped} = vigil_journal_h:dropped(journal_test),
    Dropped.

%% ---- adding ----

no_journal_test() ->
    Path = <<"/tmp/vigil-no-such-journal/socket">>,
    ?assertEqual({error, {no_journal, Path}},
                 vigil_journal_h:adding_handler(#{id => x, config => #{socket_path => Path}})),
    ?assertEqual({error, {handler_not_added, {no_journal, Path}}},
                 logger:add_handler(x, vigil_journal_h, #{config => #{socket_path => Path}})),
    ?assertEqual({error, {not_found, x}}, vigil_journal_h:dropped(x)).

invalid_config_test_() ->
    Bad = [{burst_limit_max_count, 0}, {burst_limit_enable, yes}, {syslog_identifier, ""},
           {syslog_identifier, [-1]}, {socket_path, 42}, {fields_allow, some},
           {send_buffer, -1}, {term_depth, 0}, {no_such_key, 1}],
    [?_assertEqual({error, {invalid_config, vigil_journal_h, #{K => V}}},
                   vigil_journal_h:adding_handler(#{id => x, config => #{K => V}}))
     || {K, V} <- Bad].

%% ---- fields ----

fields_test_() ->
    with(#{}, [all_fields, priorities, metadata_keys_mapped, too_many_fields_counted,
               empty_values_left_out,
               binary_values_as_bytes, formatter_crash, report_cb_crash,
               config_hides_state, update_config, large_entry_through_file, too_large,
               text_message_of_megabytes,
               journal_stopped_and_back, installed_handler_survives_bad_terms]).

all_fields(R) ->
    Line = ?LINE + 1,
    ?LOG_ERROR("hello ~p~nsecond", [world], meta(#{request_id => 42})),
    {ok, E} = recv_entry(R),
    ?assertEqual(<<"hello world\nsecond">>, field(<<"MESSAGE">>, E)),
    ?assertEqual(<<"3">>, field(<<"PRIORITY">>, E)),
    ?assertEqual(<<"vigil-test">>, field(<<"SYSLOG_IDENTIFIER">>, E)),
    ?assertEqual(<<"vigil_journal_tests:all_fields/1">>, field(<<"CODE_FUNC">>, E)),
    ?assertEqual(integer_to_binary(Line), field(<<"CODE_LINE">>, E)),
    ?assertEqual(<<"vigil_journal_tests.erl">>, filename:basename(field(<<"CODE_FILE">>, E))),
    ?assertEqual(list_to_binary(pid_to_list(self())), field(<<"ERL_PID">>, E)),
    ?assertEqual(<<"vigil_journal_test">>, field(<<"ERL_DOMAIN">>, E)),
    ?assertEqual(<<"42">>, field(<<"REQUEST_ID">>, E)),
    %% logger's own metadata are not fields
    [?assertEqual(undefined, field(K, E)) || K <- [<<"GL">>, <<"TIME">>, <<"MFA">>]],
    Distributed = node() =/= nonode@nohost,
    ?assertEqual(Distributed, field(<<"ERL_NODE">>, E) =/= undefined),
    ?assertEqual(9 + length([x || Distributed]), length(E)).

priorities(R) ->
    Levels = [emergency, alert, critical, error, warning, notice, info, debug],
    [logger:log(L, "x", meta()) || L <- Levels],
    Got = [field(<<"PRIORITY">>, E) || {ok, E} <- [recv_entry(R) || _ <- Levels]],
    ?assertEqual([<<"0">>, <<"1">>, <<"2">>, <<"3">>, <<"4">>, <<"5">>, <<"6">>, <<"7">>], Got).

metadata_keys_mapped(R) ->
    Long = list_to_atom(lists:duplicate(70, $k)),
    Meta = #{'Mixed-Case.key' => 1, '9lives' => 2, '_under' => 3, message => 4, Long => 5,
             "string key" => 6, <<"bin">> => 7, 42 => 8, {t, 1} => 9, 'ünï' => 10},
    logger:notice("x", meta(Meta)),
    {ok, E} = recv_entry(R),
    Want = [{<<"MIXED_CASE_KEY">>, <<"1">>}, {<<"X_9LIVES">>, <<"2">>},
            {<<"X__UNDER">>, <<"3">>}, {<<"X_MESSAGE">>, <<"4">>},
            {list_to_binary(lists:duplicate(64, $K)), <<"5">>}, {<<"STRING_KEY">>, <<"6">>},
            {<<"BIN">>, <<"7">>}, {<<"X_42">>, <<"8">>}, {<<"X__T_1_">>, <<"9">>},
            {<<"X__N_">>, <<"10">>}],
    [?assertEqual({K, V}, {K, field(K, E)}) || {K, V} <- Want],
    ?assertEqual(<<"x">>, field(<<"MESSAGE">>, E)),
    [?assert(valid_key(K)) || {K, _} <- E].

too_many_fields_counted(R) ->
    Meta = maps:from_list([{list_to_atom("k" ++ integer_to_list(N)), N} || N <- lists:seq(1, 1100)]),
    logger:notice("many", meta(Meta)),
    {ok, E} = recv_entry(R),
    ?assertEqual(<<"100">>, field(<<"N_FIELDS_DROPPED">>, E)),
    ?assertEqual(1000, length([K || {<<"K", _/binary>> = K, _} <- E])),
    ?assertEqual(<<"many">>, field(<<"MESSAGE">>, E)).

empty_values_left_out(R) ->
    logger:notice("", meta(#{empty_list => "", empty_bin => <<>>, kept => "k"})),
    {ok, E} = recv_entry(R),
    ?assertEqual(undefined, field(<<"MESSAGE">>, E)),
    ?assertEqual(undefined, field(<<"EMPTY_LIST">>, E)),
    ?assertEqual(undefined, field(<<"EMPTY_BIN">>, E)),
    ?assertEqual(<<"k">>, field(<<"KEPT">>, E)),
    [?assertNotEqual(<<>>, V) || {_, V} <- E].

binary_values_as_bytes(R) ->
    logger:notice(<<255, 0, $\n, 1>>, meta(#{raw => <<254, 0>>, latin1 => "caf\xe9",
                                             term => {a, [1, 2]}, pid => self()})),
    {ok, E} = recv_entry(R),
    %% logger_formatter reads a binary that is not UTF-8 as Latin-1; MESSAGE is its output
    ?assertEqual(<<"ÿ"/utf8, 0, $\n, 1>>, field(<<"MESSAGE">>, E)),
    ?assertEqual(<<254, 0>>, field(<<"RAW">>, E)),
    ?assertEqual(<<"caf", 16#c3, 16#a9>>, field(<<"LATIN1">>, E)),
    ?assertEqual(<<"{a,[1,2]}">>, field(<<"TERM">>, E)).

formatter_crash(R) ->
    ok = logger:update_handler_config(journal_test, formatter, {?MODULE, #{}}),
    logger:warning("x ~p", [secret], meta()),
    {ok, E} = recv_entry(R),
    Message = field(<<"MESSAGE">>, E),
    ?assertMatch(<<"formatter vigil_journal_tests crashed: {error,boom}; event: #{", _/binary>>,
                 Message),
    ?assertNotEqual(nomatch, binary:match(Message, <<"secret">>)),
    ?assert(installed()).

%% A formatter that crashes, or (raw) returns what the event holds, chardata or not: the
%% handler's own conversion of what formatters return.
format(#{msg := Msg}, #{raw := true}) ->
    case Msg of
        {string, String} -> String;
        {report, Report} -> Report;
        {Format, _Args} -> Format
    end;
format(_Event, _Config) ->
    error(boom).

report_cb_crash(R) ->
    logger:error(#{what => report}, meta(#{report_cb => fun(_) -> error(boom) end})),
    {ok, E} = recv_entry(R),
    ?assertNotEqual(undefined, field(<<"MESSAGE">>, E)),
    ?assert(installed()).

config_hides_state(_R) ->
    {ok, #{config := HConfig, formatter := Formatter}} = logger:get_handler_config(journal_test),
    ?assertNot(maps:is_key(state, HConfig)),
    ?assertEqual({logger_formatter, #{template => [msg], single_line => false}}, Formatter),
    ?assertEqual(500, maps:get(burst_limit_max_count, HConfig)),
    ?assertEqual(8388608, maps:get(send_buffer, HConfig)).

update_config(R) ->
    ok = logger:update_handler_config(journal_test, config, #{syslog_identifier => <<"other">>}),
    logger:notice("x", meta()),
    {ok, E} = recv_entry(R),
    ?assertEqual(<<"other">>, field(<<"SYSLOG_IDENTIFIER">>, E)),
    {ok, #{config := HConfig}} = logger:get_handler_config(journal_test),
    ?assertEqual(maps:get(path, R), maps:get(socket_path, HConfig)),
    ?assertMatch({error, {invalid_config, vigil_journal_h, #{term_depth := x}}},
                 logger:update_handler_config(journal_test, config, #{term_depth => x})).

%% A send buffer of 64 KiB: a 1 MiB entry goes as a file, whole.
large_entry_through_file(R) ->
    ok = logger:update_handler_config(journal_test, config, #{send_buffer => 65536}),
    Big = binary:copy(<<"0123456789abcde\n">>, 65536),
    logger:notice(Big, meta()),
    {ok, E} = recv_entry(R),
    ?assertEqual(true, field('$file', E)),
    ?assertEqual(Big, field(<<"MESSAGE">>, E)),
    ?assertEqual(#{burst => 0, queue_full => 0, too_large => 0, no_journal => 0, error => 0},
                 dropped()).

%% Over max_entry_size, here in a metadata value.
too_large(R) ->
    ok = logger:update_handler_config(journal_test, config, #{max_entry_size => 1 bsl 20}),
    logger:notice("x", meta(#{big => binary:copy(<<"x">>, 1 bsl 20)})),
    ?assertEqual(timeout, recv_entry(R, 100)),
    ?assertMatch(#{too_large := 1}, dropped()),
    ?assertMatch({error, {invalid_config, vigil_journal_h, #{max_entry_size := 0}}},
                 logger:update_handler_config(journal_test, config, #{max_entry_size => 0})).

%% Past the 16 MiB a file from an unprivileged sender may hold in newer journald releases, and
%% as text: the default formatter's text goes out as it is, byte for byte.
text_message_of_megabytes(R) ->
    Big = binary:copy(<<"0123456789abcdé\n"/utf8>>, 20 bsl 16),
    logger:notice(Big, meta()),
    {ok, E} = recv_entry(R),
    ?assertEqual(Big, field(<<"MESSAGE">>, E)),
    logger:notice(unicode:characters_to_list(<<"café ✓"/utf8>>), meta()),
    {ok, E2} = recv_entry(R),
    ?assertEqual(<<"café ✓"/utf8>>, field(<<"MESSAGE">>, E2)).

journal_stopped_and_back(R0) ->
    R = close_socket(R0),
    logger:notice("lost", meta()),
    ?assertMatch(#{no_journal := 1}, dropped()),
    R1 = bind(R),
    ok = logger:update_handler_config(journal_test, config, #{drop_report_interval => 1}),
    logger:notice("back", meta()),
    {ok, E} = recv_entry(R1),
    ?assertEqual(<<"back">>, field(<<"MESSAGE">>, E)),
    {ok, Report} = recv_entry(R1),
    ?assertMatch(<<"1 entry dropped in the last ", _/binary>>, field(<<"MESSAGE">>, Report)),
    ?assertEqual(<<"1">>, field(<<"N_DROPPED_NO_JOURNAL">>, Report)),
    close_socket(R1).

installed_handler_survives_bad_terms(R) ->
    logger:notice([a | b], meta()),
    logger:notice("~p ~p", [only_one], meta()),
    logger:notice("~q", [], meta()),
    logger:notice([16#110000, -1], meta(#{mfa => nonsense, line => {}, file => [-5]})),
    logger:notice("x", #{domain => [vigil_journal_test, "b"]}),
    ?assertEqual(5, length(recv_all(R))),
    ?assert(installed()),
    ?assertEqual(0, maps:get(error, dropped())).

%% ---- drops ----

burst_test_() ->
    with(#{burst_limit_max_count => 5, burst_limit_window_time => 200,
           drop_report_interval => 1},
         [burst_dropped_and_reported]).

burst_dropped_and_reported(R) ->
    [logger:info("n ~b", [N], meta()) || N <- lists:seq(1, 12)],
    ?assertEqual(5, length(recv_all(R))),
    ?assertMatch(#{burst := 7}, dropped()),
    timer:sleep(250),
    logger:info("after", meta()),
    {ok, E} = recv_entry(R),
    ?assertEqual(<<"after">>, field(<<"MESSAGE">>, E)),
    {ok, Report} = recv_entry(R),
    ?assertMatch(<<"7 entries dropped in the last 1 s: burst 7">>, field(<<"MESSAGE">>, Report)),
    ?assertEqual(<<"7">>, field(<<"N_DROPPED">>, Report)),
    ?assertEqual(<<"7">>, field(<<"N_DROPPED_BURST">>, Report)),
    ?assertEqual(<<"4">>, field(<<"PRIORITY">>, Report)),
    %% reported once
    logger:info("again", meta()),
    ?assertEqual(1, length(recv_all(R))).

queue_test_() ->
    with(#{burst_limit_enable => false, drop_report_interval => 1}, [queue_full_dropped]).

%% The receiver reads nothing: its queue (net.unix.max_dgram_qlen) fills.
queue_full_dropped(R) ->
    T0 = erlang:monotonic_time(microsecond),
    [logger:info("fill", meta()) || _ <- lists:seq(1, 1000)],
    Elapsed = erlang:monotonic_time(microsecond) - T0,
    #{queue_full := Full} = dropped(),
    ?assert(Full > 0),
    Queued = length(recv_all(R)),
    ?assertEqual(1000, Queued + Full),
    logger:info("drained", meta()),
    {ok, _} = recv_entry(R),
    {ok, Report} = recv_entry(R),
    ?assertEqual(integer_to_binary(Full), field(<<"N_DROPPED_QUEUE_FULL">>, Report)),
    %% never blocked: well under a millisecond per event
    ?assert(Elapsed < 1000 * 1000).

%% ---- from boot, as sys.config puts it ----

boot_test_() ->
    {timeout, 60, fun from_boot/0}.

from_boot() ->
    R = open_receiver(),
    Handler = io_lib:format("[{handler,journal,vigil_journal_h,#{config=>#{socket_path=>~p}}}]",
                            [binary_to_list(maps:get(path, R))]),
    Ebin = filename:dirname(code:which(vigil_journal_h)),
    {ok, Peer, _} = peer:start(#{connection => standard_io,
                                 args => ["-pa", Ebin, "-kernel", "logger", lists:flatten(Handler),
                                          "-kernel", "logger_level", "info"]}),
    try
        ?assertMatch({ok, #{module := vigil_journal_h}},
                     peer:call(Peer, logger, get_handler_config, [journal])),
        %% the kernel's own progress reports, logged before any other application started
        Boot = recv_all(R),
        ?assert(lists:any(fun(E) -> field(<<"ERL_DOMAIN">>, E) =:= <<"otp.sasl">> end, Boot)),
        ok = peer:call(Peer, logger, notice, ["from the peer"]),
        {ok, E} = recv_entry(R),
        ?assertEqual(<<"from the peer">>, field(<<"MESSAGE">>, E)),
        ?assertEqual(<<"erlang">>, field(<<"SYSLOG_IDENTIFIER">>, E))
    after
        peer:stop(Peer),
        close_receiver(R)
    end.

%% ---- PropEr: any event, through logger, to the receiver ----

%% Two handlers: logger_formatter, and the raw formatter above, each with its receiver.
property_test_() ->
    {setup, fun setup_property/0, fun cleanup_property/1,
     fun(Rs) -> {timeout, 300, ?_assert(run_property(Rs))} end}.

setup_property() ->
    R = setup(#{burst_limit_enable => false}),
    Raw = open_receiver(),
    ok = logger:add_handler(journal_raw, vigil_journal_h,
                            (handler_config(Raw, #{burst_limit_enable => false}))#{
                              formatter => {?MODULE, #{raw => true}}}),
    {R, Raw}.

cleanup_property({R, Raw}) ->
    _ = logger:remove_handler(journal_raw),
    close_receiver(Raw),
    cleanup(R).

run_property(Rs) ->
    Self = self(),
    ok = logger:add_handler(capture, ?MODULE, #{config => #{pid => Self}, filter_default => stop,
                                                filters => [{only_tests,
                                                             {fun logger_filters:domain/2,
                                                              {log, sub, ?DOMAIN}}}]}),
    proper:quickcheck(prop_any_event(Rs), [{numtests, 300}, {to_file, user}]).

%% The capture handler: the event as every handler received it.
log(Event, #{config := #{pid := Pid}}) ->
    Pid ! {event, Event},
    ok.

prop_any_event({R, Raw}) ->
    proper:forall(
      {level(), msg(), metadata()},
      fun({Level, Msg, Meta}) ->
                flush_events(),
                log_event(Level, Msg, maps:merge(Meta, meta())),
                Event = receive {event, Ev} -> Ev after 1000 -> error(no_event) end,
                {ok, E} = recv_entry(R),
                {ok, RawE} = recv_entry(Raw),
                installed() andalso lists:member(journal_raw, logger:get_handler_ids())
                    andalso well_formed(E) andalso well_formed(RawE)
                    andalso message_as_formatted(field(<<"MESSAGE">>, E), Event)
                    andalso field(<<"MESSAGE">>, RawE) =:= raw_message(Event)
                    andalso maps:get(error, dropped()) =:= 0
      end).

well_formed(E) ->
    lists:all(fun({K, V}) -> valid_key(K) andalso V =/= <<>> end, E) andalso
        re:run(field(<<"PRIORITY">>, E), "^[0-7]$", [{capture, none}]) =:= match.

%% What the raw formatter returns, as the handler must send it: chardata as UTF-8 with binaries
%% as their bytes; anything else as a term, ~0tP with the default depth and length.
raw_message(Event) ->
    Out = format(Event, #{raw => true}),
    Bytes = case catch unicode:characters_to_binary(Out) of
                Bin when is_binary(Bin) -> Bin;
                _ ->
                    case catch iolist_to_binary(utf8(Out)) of
                        Bin when is_binary(Bin) -> Bin;
                        _ -> unicode:characters_to_binary(
                               io_lib:format("~0tP", [Out, 30], [{chars_limit, 65536}]))
                    end
            end,
    case Bytes of
        <<>> -> undefined;
        _ -> Bytes
    end.

flush_events() ->
    receive {event, _} -> flush_events() after 0 -> ok end.

log_event(Level, {format, Format, Args}, Meta) ->
    logger:log(Level, Format, Args, Meta);
log_event(Level, {string_or_report, Msg}, Meta) ->
    logger:log(Level, Msg, Meta).

%% MESSAGE is what the handler's formatter makes of the event, computed here independently
%% (absent when empty), or, when the formatter crashes, names the crash.
message_as_formatted(Message, Event) ->
    FConfig = #{template => [msg], single_line => false},
    case catch logger_formatter:format(Event, FConfig) of
        {'EXIT', _} ->
            nomatch =/= binary:match(Message, <<"formatter logger_formatter crashed: ">>);
        Out ->
            case bytes(Out) of
                <<>> -> Message =:= undefined;
                Bytes -> Message =:= Bytes
            end
    end.

bytes(Out) ->
    case catch unicode:characters_to_binary(Out) of
        Bin when is_binary(Bin) -> Bin;
        _ -> iolist_to_binary(utf8(Out))
    end.

utf8(B) when is_binary(B) -> B;
utf8(C) when is_integer(C) -> <<C/utf8>>;
utf8([H | T]) -> [utf8(H) | utf8(T)];
utf8([]) -> [].

%% ---- generators ----

%% PropEr 1.2 has neither.
unicode_string() ->
    proper_types:bind(proper_unicode:utf8(), fun unicode:characters_to_list/1, false).

map(K, V) ->
    proper_types:bind(list({K, V}), fun maps:from_list/1, false).

level() ->
    oneof([emergency, alert, critical, error, warning, notice, info, debug]).

msg() ->
    oneof([{string_or_report, chardata()},
           {string_or_report, map(key(), value())},
           {string_or_report, non_empty(list({atom(), value()}))},
           {format, format(), list(value())}]).

format() ->
    oneof(["~p", "~s", "~ts", "~w ~w", "~q", "~", "plain", "~p~n~p", unicode_string(),
           <<"~tp">>, '~p atom']).

chardata() ->
    oneof([unicode_string(), latin1_list(), binary(), non_utf8_binary(),
           list(oneof([unicode_string(), binary(), latin1_list()])),
           [deep_list(50)]]).

latin1_list() -> list(range(0, 255)).

non_utf8_binary() -> proper_types:bind(binary(), fun(B) -> <<255, B/binary, 192>> end, false).

deep_list(0) -> [];
deep_list(N) -> [deep_list(N - 1)].

deep_term() ->
    proper_types:bind(range(1, 200), fun(N) -> nest(N) end, false).

nest(0) -> x;
nest(N) -> {d, [nest(N - 1)]}.

value() ->
    oneof([any(), binary(), non_utf8_binary(), latin1_list(), unicode_string(), deep_term(),
           fun() -> ok end, make_ref(), self()]).

key() ->
    oneof([atom(), binary(), unicode_string(), integer(), {atom(), integer()},
           elements(['', '_', '9', message, priority, 'a.b-c', 'ÄÖ', request_id])]).

metadata() ->
    proper_types:bind({map(key(), value()), list(special_meta())},
                      fun({Map, Extra}) -> maps:merge(Map, maps:from_list(Extra)) end, false).

special_meta() ->
    oneof([{report_cb, fun(_) -> error(boom) end},
           {report_cb, fun(_, _) -> exit(boom) end},
           {report_cb, fun(R) -> {"~p", [R]} end},
           {mfa, oneof([{m, f, 1}, garbage, {"m", 1, x}])},
           {file, oneof(["f.erl", <<"f.erl">>, [-1], any()])},
           {line, oneof([1, -1, any()])}]).

%% ---- timing (a measurement printed, not a benchmark; asserted only loosely) ----

timing_test_() ->
    {setup, fun() -> setup(#{burst_limit_enable => false}) end, fun cleanup/1,
     fun(R) -> {timeout, 60, fun() -> timing(R) end} end}.

%% A reader drains the receiver while this process logs: µs per entry in the logging process,
%% formatting included.
timing(#{socket := S}) ->
    Self = self(),
    Reader = spawn_link(fun() -> drain(S, 0, Self) end),
    N = 20000,
    Meta = meta(#{request_id => 42, user => <<"alice">>}),
    T0 = erlang:monotonic_time(nanosecond),
    [?LOG_INFO("request ~b done in ~b ms", [I, 12], Meta) || I <- lists:seq(1, N)],
    Ns = erlang:monotonic_time(nanosecond) - T0,
    #{queue_full := Full} = dropped(),
    Reader ! stop,
    Received = receive {drained, C} -> C end,
    io:format(user, "~n    journal handler: ~.2f us per entry (~b entries, ~b received, "
              "~b dropped as queue_full)~n", [Ns / N / 1000, N, Received, Full]),
    ?assert(Ns / N < 1000000).

drain(S, Count, Parent) ->
    receive
        stop -> Parent ! {drained, Count + drain_now(S)}
    after 0 ->
        case socket:recv(S, 0, 10) of
            {ok, _} -> drain(S, Count + 1, Parent);
            {error, timeout} -> drain(S, Count, Parent)
        end
    end.

drain_now(S) ->
    case socket:recv(S, 0, 0) of
        {ok, _} -> 1 + drain_now(S);
        {error, _} -> 0
    end.
