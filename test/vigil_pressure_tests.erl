%% The memory pressure watch, with a real peer: MEMORY_PRESSURE_WATCH names an AF_UNIX stream
%% socket that the test listens on (the protocol allows one, and it fires on command, where a PSI
%% file fires only under real pressure: the C suite and test/e2e/pressure_test.sh have those).
%% The trigger written must be the decoded MEMORY_PRESSURE_WRITE, byte for byte.
-module(vigil_pressure_tests).

-include_lib("eunit/include/eunit.hrl").

-compile([export_all, nowarn_export_all]).

-define(TRIGGER, <<"some 150000 2000000", 0>>).
-define(INTERVAL, 300).

%% ---- a peer for the watch ----

listen() ->
    Dir = string:trim(os:cmd("mktemp -d /tmp/vigil-pressure-XXXXXX")),
    Path = list_to_binary(filename:join(Dir, "watch")),
    {ok, L} = socket:open(local, stream, default),
    ok = socket:bind(L, #{family => local, path => Path}),
    ok = socket:listen(L),
    #{listener => L, path => Path, dir => Dir}.

close(#{listener := L, path := Path, dir := Dir}) ->
    socket:close(L),
    file:delete(Path),
    file:del_dir(Dir).

%% ---- vigil started with the variables ----

start_with(Watch, Write) ->
    vigil_test_receiver:start_vigil_without_manager(),
    ok = application:stop(vigil),
    set("MEMORY_PRESSURE_WATCH", Watch),
    set("MEMORY_PRESSURE_WRITE", Write),
    ok = application:set_env(vigil, memory_pressure_action, {gc, 5}),
    ok = application:set_env(vigil, memory_pressure_interval, ?INTERVAL),
    ok = application:start(vigil).

set(Name, undefined) -> os:unsetenv(Name);
set(Name, Value) -> os:putenv(Name, binary_to_list(Value)).

restore() ->
    _ = application:stop(vigil),
    os:unsetenv("MEMORY_PRESSURE_WATCH"),
    os:unsetenv("MEMORY_PRESSURE_WRITE"),
    application:unset_env(vigil, memory_pressure_action),
    application:unset_env(vigil, memory_pressure_interval),
    ok = application:start(vigil).

setup() ->
    P = listen(),
    start_with(maps:get(path, P), base64:encode(?TRIGGER)),
    {ok, Peer} = socket:accept(maps:get(listener, P), 2000),
    P#{peer => Peer}.

cleanup(#{peer := Peer} = P) ->
    restore(),
    socket:close(Peer),
    close(P).

fire(#{peer := Peer}) ->
    ok = socket:send(Peer, <<"pressure">>).

notice(Timeout) ->
    receive {vigil, memory_pressure, Info} -> Info after Timeout -> none end.

watch_test_() ->
    {foreach, fun setup/0, fun cleanup/1,
     [fun(P) -> {Name, fun() -> Test(P) end} end
      || {Name, Test} <- [{"the trigger is written decoded", fun trigger_written/1},
                          {"a subscriber gets each event, with the action's result",
                           fun subscriber_notified/1},
                          {"events closer than the interval are folded into one notice",
                           fun rate_limited/1},
                          {"unsubscribe, and a subscriber that exits, get nothing more",
                           fun unsubscribed/1},
                          {"a watch whose peer goes away stops, and vigil stays up",
                           fun peer_gone/1}]]}.

trigger_written(#{peer := Peer}) ->
    Size = byte_size(?TRIGGER),
    ?assertEqual({ok, ?TRIGGER}, socket:recv(Peer, Size, 2000)).

subscriber_notified(P) ->
    ok = vigil:subscribe(memory_pressure),
    ok = vigil:subscribe(memory_pressure),
    fire(P),
    Info = notice(2000),
    ?assertMatch(#{events := 1, path := _, action := #{collected := 5, freed := _}}, Info),
    ?assertEqual(maps:get(path, P), maps:get(path, Info)),
    %% Subscribed twice, told once.
    ?assertEqual(none, notice(?INTERVAL + 200)),
    ok = vigil:unsubscribe(memory_pressure).

rate_limited(P) ->
    ok = vigil:subscribe(memory_pressure),
    fire(P),
    ?assertMatch(#{events := 1}, notice(2000)),
    T0 = erlang:monotonic_time(millisecond),
    [begin fire(P), timer:sleep(20) end || _ <- lists:seq(1, 5)],
    #{events := Events} = notice(2000),
    Waited = erlang:monotonic_time(millisecond) - T0,
    %% The burst's events (a read may take several at once) in one notice, after the interval.
    ?assert(Events >= 1 andalso Events =< 5),
    ?assert(Waited >= ?INTERVAL - 50),
    ?assertEqual(none, notice(?INTERVAL + 200)),
    ok = vigil:unsubscribe(memory_pressure).

unsubscribed(P) ->
    Self = self(),
    Other = spawn(fun() -> ok = vigil:subscribe(memory_pressure), Self ! subscribed,
                           receive stop -> ok end end),
    receive subscribed -> ok end,
    ok = vigil:subscribe(memory_pressure),
    ok = vigil:unsubscribe(memory_pressure),
    Ref = monitor(process, Other),
    Other ! stop,
    receive {'DOWN', Ref, process, Other, _} -> ok end,
    fire(P),
    ?assertEqual(none, notice(?INTERVAL + 300)),
    ?assertEqual(#{}, maps:get(subscribers, sys:get_state(vigil_pressure))).

peer_gone(#{peer := Peer}) ->
    Pid = whereis(vigil_pressure),
    Ref = monitor(process, Pid),
    socket:close(Peer),
    receive {'DOWN', Ref, process, Pid, Reason} -> ?assertEqual(normal, Reason)
    after 2000 -> error(still_watching)
    end,
    %% Transient: not started again; vigil runs on, and subscribing still answers ok.
    timer:sleep(100),
    ?assertEqual(undefined, whereis(vigil_pressure)),
    ?assertEqual(ok, vigil:subscribe(memory_pressure)),
    ?assert(is_pid(whereis(vigil_sup))).

%% ---- input that leaves the feature off, without a crash ----

off_test_() ->
    {foreach, fun() -> ok end, fun(_) -> restore() end,
     [{Name, fun() -> off(Watch, Write, Warnings) end}
      || {Name, Watch, Write, Warnings} <-
             [{"unset", undefined, undefined, 0},
              {"/dev/null: the manager turned it off", <<"/dev/null">>, undefined, 0},
              {"a path that does not exist", <<"/nonexistent/memory.pressure">>,
               base64:encode(?TRIGGER), 1},
              {"a relative path", <<"memory.pressure">>, undefined, 1},
              {"a directory", <<"/">>, undefined, 1},
              {"MEMORY_PRESSURE_WRITE that is not base64", <<"/proc/pressure/memory">>,
               <<"c29tZS!!">>, 1}]]}.

%% vigil starts with the feature off, and says so in exactly Warnings warnings of its own.
off(Watch, Write, Warnings) ->
    ok = logger:add_handler(?MODULE, ?MODULE, #{config => self(), level => warning}),
    try start_with(Watch, Write) after logger:remove_handler(?MODULE) end,
    assert_off(),
    Logged = [Text || {warning, Text} <- flush_logs()],
    ?assertEqual(Warnings, length(Logged)),
    [?assertMatch({match, _}, re:run(T, "memory pressure is not watched")) || T <- Logged].

%% The logger handler: each warning of vigil's to the test process, as text.
log(#{level := Level, msg := Msg}, #{config := Pid}) ->
    Text = case Msg of
               {string, S} -> unicode:characters_to_binary(S);
               {report, R} -> iolist_to_binary(io_lib:format("~tp", [R]));
               {Format, Args} -> iolist_to_binary(io_lib:format(Format, Args))
           end,
    case binary:match(Text, <<"vigil:">>) of
        {0, _} -> Pid ! {log, Level, Text};
        _ -> ok
    end.

flush_logs() ->
    receive {log, Level, Text} -> [{Level, Text} | flush_logs()] after 0 -> [] end.

assert_off() ->
    ?assertEqual(undefined, whereis(vigil_pressure)),
    ?assert(is_pid(whereis(vigil_sup))),
    ?assertEqual(ok, vigil:subscribe(memory_pressure)),
    ?assertEqual(ok, vigil:unsubscribe(memory_pressure)).

%% ---- the NIF itself ----

nif_test_() ->
    {setup, fun listen/0, fun close/1,
     fun(P) -> [{"bad types raise badarg", fun nif_badarg/0},
                {"not base64", fun nif_invalid/0},
                {"no event after pressure_close/1", fun() -> nif_close(P) end},
                {"a watch keeps running across an upgrade of the library",
                 fun() -> nif_upgrade(P) end}] end}.

nif_badarg() ->
    Ref = make_ref(),
    ?assertError(badarg, vigil_nif:pressure_open("/dev/null", undefined, Ref)),
    ?assertError(badarg, vigil_nif:pressure_open(<<"/dev/null">>, 42, Ref)),
    ?assertError(badarg, vigil_nif:pressure_open(<<"/dev/null">>, undefined, not_a_ref)),
    ?assertError(badarg, vigil_nif:pressure_close(make_ref())),
    ?assertEqual({error, einval}, vigil_nif:pressure_open(<<"/dev/", 0, "null">>, undefined, Ref)),
    ?assertEqual(ok, vigil_nif:pressure_open(<<"/dev/null">>, undefined, Ref)).

nif_invalid() ->
    ?assertEqual({error, {invalid, <<"MEMORY_PRESSURE_WRITE">>}},
                 vigil_nif:pressure_open(<<"/dev/null">>, <<"Zh==">>, make_ref())).

nif_close(#{listener := L, path := Path}) ->
    Ref = make_ref(),
    {ok, W} = vigil_nif:pressure_open(Path, undefined, Ref),
    {ok, Peer} = socket:accept(L, 2000),
    ok = socket:send(Peer, <<"x">>),
    receive {vigil_pressure, Ref, pressure} -> ok after 2000 -> error(no_event) end,
    ?assertEqual(ok, vigil_nif:pressure_close(W)),
    ?assertEqual(ok, vigil_nif:pressure_close(W)),
    %% Closed: the peer may see the socket gone (epipe); either way nothing may come.
    _ = socket:send(Peer, <<"x">>),
    receive {vigil_pressure, Ref, _} = M -> error({after_close, M}) after 300 -> ok end,
    socket:close(Peer).

%% The same file loaded again goes through the upgrade callback, which takes the watch over.
nif_upgrade(#{listener := L, path := Path}) ->
    Ref = make_ref(),
    {ok, W} = vigil_nif:pressure_open(Path, undefined, Ref),
    {ok, Peer} = socket:accept(L, 2000),
    {module, vigil_nif} = code:load_file(vigil_nif),
    _ = code:purge(vigil_nif),
    ok = socket:send(Peer, <<"x">>),
    receive {vigil_pressure, Ref, pressure} -> ok after 2000 -> error(no_event) end,
    ?assertEqual(ok, vigil_nif:pressure_close(W)),
    socket:close(Peer).

%% ---- the default action ----

%% An idle process holding a dead 8 MiB list: collected, its memory comes back.
collect_largest_test() ->
    Self = self(),
    Hog = spawn(fun() -> 524288 = length(lists:seq(1, 524288)), Self ! built,
                         receive stop -> ok end end),
    receive built -> ok end,
    {memory, Before} = process_info(Hog, memory),
    #{collected := N} = vigil_pressure:collect_largest(1000),
    {memory, After} = process_info(Hog, memory),
    Hog ! stop,
    ?assert(N >= 1),
    ?assert(Before > 8 * 1048576),
    ?assert(After < 1048576).
