%% @private
%% @doc `make bench' for the notification path: nanoseconds per call and ratios against the
%% floor (sendmsg() in a C loop on a connected socket), all measured in this run against one
%% receiver process that drains the socket. Senders are timed in batches of ?BATCH calls into
%% an empty queue; between batches, untimed, they wait until the receiver has read everything,
%% so the rows measure the sender and not the receiver.
-module(vigil_bench).

-export([main/1]).

-define(N, 200000).
-define(ROUNDS, 3).
-define(WARMUP, 10000).
-define(BATCH, 100).
-define(TEXT, <<"serving 42 requests">>).
-define(PAYLOAD, <<"STATUS=serving 42 requests">>).

-spec main([string()]) -> no_return().
main([CBench]) ->
    deepen_queue(os:getenv("VIGIL_BENCH_QLEN")),
    Dir = filename:join("/tmp", "vigil-bench-" ++ os:getpid()),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Path = filename:join(Dir, "notify"),
    Receiver = start_receiver(CBench, Path),
    os:putenv("NOTIFY_SOCKET", Path),
    {ok, _} = application:ensure_all_started(vigil),
    put(receiver, Receiver),
    put(delivered, 0),
    Results = best_of(?ROUNDS, fun() -> round(CBench, Path) end),
    print(Results),
    port_close(Receiver),
    _ = file:del_dir_r(Dir),
    halt(0).

start_receiver(CBench, Path) ->
    Port = open_port({spawn_executable, CBench},
                     [{args, ["receive", Path]}, {line, 64}, binary, use_stdio]),
    receive {Port, {data, {eol, <<"ready">>}}} -> Port
    after 5000 -> error(receiver_did_not_start)
    end.

%% Datagrams the receiver got since it was last asked, once the socket is quiet.
received() ->
    timer:sleep(20),
    received_now().

received_now() ->
    Port = get(receiver),
    port_command(Port, <<"count\n">>),
    receive
        {Port, {data, {eol, Count}}} ->
            N = binary_to_integer(Count),
            put(delivered, get(delivered) + N),
            N
    after 5000 -> error(receiver_did_not_answer)
    end.

%% Datagrams received since the last call.
delivered() ->
    _ = received(),
    put(delivered, 0).

%% One measurement of every case: [{Name, NsPerCall, Note}].
round(CBench, Path) ->
    [c_case("floor: C sendmsg() on a connected socket", CBench, "floor", Path),
     c_case("vigil core from C (build + send)", CBench, "core", Path),
     erl_case("vigil:status/1", fun() -> vigil:status(?TEXT) end),
     erl_case("vigil:watchdog(ping)", fun() -> vigil:watchdog(ping) end),
     c_case("libsystemd sd_notify() from C", CBench, "sd_notify", Path),
     erl_case("socket:send/2, connected (pure Erlang)", socket_sender(Path)),
     erl_case("gen_udp:send/4, local (pure Erlang)", gen_udp_sender(Path))].

c_case(Name, CBench, Mode, Path) ->
    _ = delivered(),
    Out = os:cmd(CBench ++ " " ++ Mode ++ " " ++ Path ++ " " ++ integer_to_list(?N)),
    [Ns, Retries, Mallocs] = string:lexemes(string:trim(Out), " "),
    Note = io_lib:format("~b/~b delivered, ~s EAGAIN retries, ~s malloc calls",
                         [delivered(), ?N, Retries, Mallocs]),
    {Name, list_to_float(Ns), lists:flatten(Note)}.

%% The words the garbage collector reclaimed afterwards are what the loop allocated on the heap.
erl_case(Name, Send) ->
    _ = delivered(),
    {Ns, Failures, Words} = timed_loop(Send),
    Note = io_lib:format("~b/~b delivered, ~b not ok, ~.1f heap words per call",
                         [delivered(), ?N + ?WARMUP, Failures, Words]),
    {Name, Ns, lists:flatten(Note)}.

timed_loop(Send) ->
    _ = batches(Send, ?WARMUP, 0, 0),
    erlang:garbage_collect(),
    {_, Reclaimed0, _} = erlang:statistics(garbage_collection),
    {Elapsed, Failures} = batches(Send, ?N, 0, 0),
    erlang:garbage_collect(),
    {_, Reclaimed1, _} = erlang:statistics(garbage_collection),
    {Elapsed / ?N, Failures, (Reclaimed1 - Reclaimed0) / ?N}.

batches(_Send, 0, Elapsed, Failures) ->
    {Elapsed, Failures};
batches(Send, N, Elapsed, Failures) ->
    T0 = erlang:monotonic_time(nanosecond),
    More = loop(Send, ?BATCH, 0),
    T1 = erlang:monotonic_time(nanosecond),
    wait_received(?BATCH - More),
    batches(Send, N - ?BATCH, Elapsed + T1 - T0, Failures + More).

wait_received(Expected) when Expected =< 0 -> ok;
wait_received(Expected) -> wait_received(Expected - received_now()).

loop(_Send, 0, Failures) -> Failures;
loop(Send, N, Failures) ->
    case Send() of
        ok -> loop(Send, N - 1, Failures);
        _ -> loop(Send, N - 1, Failures + 1)
    end.

socket_sender(Path) ->
    {ok, S} = socket:open(local, dgram, default),
    ok = socket:connect(S, #{family => local, path => Path}),
    fun() -> socket:send(S, ?PAYLOAD) end.

gen_udp_sender(Path) ->
    {ok, U} = gen_udp:open(0, [local, binary]),
    fun() -> gen_udp:send(U, {local, Path}, 0, ?PAYLOAD) end.

%% The fastest of several rounds of each case: the least disturbed by the rest of the machine.
best_of(Rounds, Round) ->
    All = [Round() || _ <- lists:seq(1, Rounds)],
    [lists:foldl(fun({_, Ns, _} = R, {_, Best, _}) when Ns < Best -> R;
                    (_, Best) -> Best
                 end, hd(Column), tl(Column))
     || Column <- transpose(All)].

transpose([[] | _]) -> [];
transpose(Rows) -> [[hd(R) || R <- Rows] | transpose([tl(R) || R <- Rows])].

%% Only ever asked inside a network namespace of the bench's own (see mk/core.mk).
deepen_queue(false) -> ok;
deepen_queue(Qlen) -> ok = file:write_file("/proc/sys/net/unix/max_dgram_qlen", Qlen).

qlen() ->
    case file:read_file("/proc/sys/net/unix/max_dgram_qlen") of
        {ok, Bin} -> string:trim(Bin);
        _ -> "?"
    end.

print([{_, Floor, _} | _] = Results) ->
    io:format("~nvigil notification path: best of ~b rounds of ~b calls, one receiver, "
              "net.unix.max_dgram_qlen=~ts~n~n", [?ROUNDS, ?N, qlen()]),
    io:format("~-44s ~10s ~8s  ~s~n", ["case", "ns/call", "x floor", "notes"]),
    [io:format("~-44s ~10.1f ~8.2f  ~s~n", [Name, Ns, Ns / Floor, Note])
     || {Name, Ns, Note} <- Results],
    {_, Status, _} = lists:keyfind("vigil:status/1", 1, Results),
    Verdict = case Status / Floor =< 1.3 of true -> "met"; false -> "NOT met" end,
    io:format("~ntarget vigil:status/1 <= 1.3x floor: ~.2fx, ~s~n", [Status / Floor, Verdict]).
