%% @private
%% @doc `make bench-journal': vigil_journal_h against the other ways a BEAM gets its logs to
%% journald, all measured in one run against one receiver (bench/journal_bench.c: an AF_UNIX
%% datagram socket with journald's 8 MiB receive buffer, drained and counted by a C process).
%%
%% Rows, for 100-byte and 4 KiB messages, from 1 and 8 logging processes (threads for C).
%% Every Erlang row logs with `logger:info("~ts", [Message])', with no other handler
%% installed (the default one is removed for the run):
%% <ul>
%% <li>`vigil_journal_h': the handler, burst limit off, `socket_path' the receiver's;</li>
%% <li>`gen_udp via one process': a handler written here the way hauleth/erlang-systemd's
%%     systemd_journal_h works: the logging process formats the event and encodes the
%%     datagram, then hands it to one process that owns a `gen_udp' local socket and sends it.
%%     The hand-over is OTP's `logger_olp', which that project's `enough' copies, with the
%%     same defaults but the burst limit off: cast, call once 10 are queued, drop past 200,
%%     flush past 1000. The socket keeps the OS's send buffer, as there;</li>
%% <li>`logger_std_h to a file': OTP's file handler, default formatter and overload
%%     protection, so at most 500 events a second (its burst limit), to a file in /tmp. The
%%     end is `logger_std_h:filesync/1' (a datasync); the entries are the file's lines;</li>
%% <li>`logger_std_h, burst limit off': the same without the burst limit;</li>
%% <li>`format only, no send (floor)': the gen_udp row's handler formatting and encoding each
%%     event and sending nothing: what any Erlang handler pays before its transport;</li>
%% <li>`libsystemd sd_journal_sendv() (C)': the ceiling, a C loop per thread sending the
%%     same four fields. It always sends to /run/systemd/journal/socket, so it is measured
%%     only when make runs the bench in a mount namespace of its own (as root).</li>
%% </ul>
%% The journal rows send the same four fields (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, ERL_PID):
%% their datagrams are the same size (column B/entry).
%%
%% Each case logs ?N_SMALL (100 B) or ?N_LARGE (4 KiB) entries, split over the processes; a
%% process that has logged for ?DEADLINE_MS stops early (the slow rows, or any row on a busy
%% machine), and the row's `sent' is then smaller. Each case runs ?ROUNDS times.
%%
%% Columns:
%% <ul>
%% <li>`caller us': time in the logging call, per entry, the fastest round: each process
%%     times its loop of logger:info/2 calls (each C thread its loop of sd_journal_sendv());
%%     the loops' times added up, over the entries. With more processes than cores this is
%%     wall time and includes waiting for a core;</li>
%% <li>`entries/s': end to end, the best round: the entries the receiver counted over the
%%     time from the first call to the last entry it received (for the file, to the end of
%%     the filesync);</li>
%% <li>`recv/sent': entries received of those logged, the worst round; the difference was
%%     dropped, for the reasons in the last column (vigil's summary of its drops is one more
%%     entry received);</li>
%% <li>`B/entry': bytes received per entry (for the file, bytes per line);</li>
%% <li>`long_sch': long_schedule events over 1 ms (erlang:system_monitor/2) anywhere in the
%%     VM while the row ran, all rounds added up. It is wall time: when the OS takes a core
%%     from a scheduler thread (the receiver, other work on the machine) a process running
%%     then counts too, so next to it:</li>
%% <li>`os_wait': milliseconds the VM's scheduler threads were runnable but waiting for a
%%     core (the kernel's schedstat), all rounds added up;</li>
%% <li>`vigil/row': vigil's caller time over this row's (below 1: vigil's call is cheaper),
%%     then vigil's entries/s over this row's (above 1: vigil delivers faster).</li>
%% </ul>
-module(journal_bench).

-export([main/1]).
%% The gen_udp row's handler: logger callbacks, run in the logging process...
-export([adding_handler/1, removing_handler/1, log/2]).
%% ...and its socket owner's, run by logger_olp.
-export([init/1, handle_load/2, handle_call/3, terminate/2]).

-define(N_SMALL, 50000).
-define(N_LARGE, 10000).
-define(DEADLINE_MS, 1500).
-define(ROUNDS, 3).
-define(CHUNK, 100).
-define(JOURNALD_SOCKET, "/run/systemd/journal/socket").
-define(IDENTIFIER, <<"journal_bench">>).
-define(FORMATTER, {logger_formatter, #{template => [msg], single_line => false}}).
-define(OLP, journal_bench_udp).
%% Calls timed one by one in the NIF-only table.
-define(N_NIF, 40000).
%% How long the receiver's count must stand still, short of what was sent, for a row to be over.
-define(QUIET_MS, 150).

-spec main([string()]) -> no_return().
main([CBench, Path]) ->
    run(CBench, Path, Path =:= ?JOURNALD_SOCKET),
    halt(0);
main([CBench]) ->
    Dir = filename:join("/tmp", "vigil-jbench-" ++ os:getpid()),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    run(CBench, filename:join(Dir, "socket"), false),
    _ = file:del_dir_r(Dir),
    halt(0).

run(CBench, Path, WithLibsystemd) ->
    deepen_queue(os:getenv("VIGIL_BENCH_QLEN")),
    ok = logger:remove_handler(default),
    ok = logger:set_primary_config(level, info),
    put(receiver, start_receiver(CBench, Path)),
    put(monitor, start_long_schedule_monitor()),
    Cases = [{Bytes, Procs} || Bytes <- [100, 4096], Procs <- [1, 8]],
    Rows = rows(CBench, Path, WithLibsystemd),
    Load = loadavg(),
    T0 = erlang:monotonic_time(millisecond),
    Rounds = [[{Case, [measure(Row, Case) || Row <- Rows]} || Case <- Cases]
              || _ <- lists:seq(1, ?ROUNDS)],
    Seconds = (erlang:monotonic_time(millisecond) - T0) / 1000,
    Best = best(Rounds),
    print(Best, Path, Seconds, Load),
    WithLibsystemd orelse not_measured(),
    verdict(Best),
    nif_calls(Path),
    port_close(get(receiver)).

%% The NIF alone: each vigil_nif:journal_send/2 call timed on its own, as the handler makes it,
%% from 1 and 8 processes. A call that held its scheduler for over 1 ms would show here, without
%% the formatter and logger around it (their long schedules above are the OS's, as the floor
%% row's are). Wall time still: a call the OS interrupts counts.
nif_calls(Path) ->
    {ok, J} = vigil_nif:journal_open(list_to_binary(Path), 8388608),
    io:format("~nvigil's NIF call alone (vigil_nif:journal_send/2, ~b calls per case, each timed):~n",
              [?N_NIF]),
    [nif_case(J, Bytes, Procs) || Bytes <- [100, 4096], Procs <- [1, 8]],
    ok.

nif_case(J, Bytes, Procs) ->
    Fields = [{<<"MESSAGE">>, binary:copy(<<"x">>, Bytes)}, {<<"PRIORITY">>, <<"6">>},
              {<<"SYSLOG_IDENTIFIER">>, <<"bench">>}, {<<"ERL_PID">>, <<"<0.1.0>">>}],
    Self = self(),
    Each = ?N_NIF div Procs,
    Pids = [spawn_link(fun() -> Self ! {times, self(), time_calls(J, Fields, Each, [])} end)
            || _ <- lists:seq(1, Procs)],
    Ns = lists:sort(lists:append([receive {times, P, T} -> T end || P <- Pids])),
    timer:sleep(200),
    Pick = fun(Q) -> lists:nth(max(1, ceil(Q * length(Ns))), Ns) / 1000 end,
    io:format("  ~5b B, ~b ~ts: p50 ~.1f us, p99.9 ~.1f us, max ~.1f us, over 1 ms: ~b~n",
              [Bytes, Procs, plural(Procs), Pick(0.5), Pick(0.999), Pick(1.0),
               length([T || T <- Ns, T > 1000000])]).

time_calls(_J, _Fields, 0, Acc) ->
    Acc;
time_calls(J, Fields, N, Acc) ->
    %% A fresh time slice first, so that the process is not switched out between the two clocks.
    erlang:yield(),
    T0 = erlang:monotonic_time(nanosecond),
    _ = vigil_nif:journal_send(J, Fields),
    time_calls(J, Fields, N - 1, [erlang:monotonic_time(nanosecond) - T0 | Acc]).

rows(CBench, Path, WithLibsystemd) ->
    File = filename:join("/tmp", "vigil-jbench-" ++ os:getpid() ++ ".log"),
    [{"vigil_journal_h", {vigil, Path}},
     {"gen_udp via one process", {gen_udp, Path}},
     {"logger_std_h to a file", {std_h, File, #{}}},
     {"logger_std_h, burst limit off", {std_h, File, #{burst_limit_enable => false}}},
     {"format only, no send (floor)", floor}
     | [{"libsystemd sd_journal_sendv() (C)", {sendv, CBench}} || WithLibsystemd]].

entries(100) -> ?N_SMALL;
entries(_) -> ?N_LARGE.

%% Only ever asked inside a network namespace of the bench's own (see mk/core.mk).
deepen_queue(false) -> ok;
deepen_queue(Qlen) -> ok = file:write_file("/proc/sys/net/unix/max_dgram_qlen", Qlen).

%% ---- one measurement: {Name, #{caller_ns, rate, received, sent, bytes, long, why}} ----

measure({Name, {sendv, CBench}}, {Bytes, Threads}) ->
    N = entries(Bytes),
    mark(),
    Cmd = io_lib:format("~ts sendv ~b ~b ~b", [CBench, Bytes, Threads, N]),
    [Ns, Failed] = string:lexemes(string:trim(os:cmd(lists:flatten(Cmd))), " "),
    {Received, RBytes, LastNs} = settle(N),
    Why = case Failed of "0" -> ""; _ -> ["failed calls ", Failed] end,
    {Name, result(binary_to_number(Ns), {Received, RBytes, LastNs}, N, undefined, Why)};
measure({Name, Setup}, {Bytes, Procs}) ->
    Teardown = install(Setup),
    N = entries(Bytes),
    Message = binary:copy(<<"x">>, Bytes),
    Workers = [spawn_worker(self(), N div Procs, Message) || _ <- lists:seq(1, Procs)],
    _ = take_long_schedules(),
    Wait0 = scheduler_wait_ns(),
    mark(),
    Start = erlang:monotonic_time(nanosecond),
    Deadline = erlang:monotonic_time(millisecond) + ?DEADLINE_MS,
    [W ! {go, Deadline} || W <- Workers],
    Done = [receive {done, W, Ns, Count} -> {Ns, Count} end || W <- Workers],
    Sent = lists:sum([C || {_, C} <- Done]),
    Count = finish(Setup, Start, Sent),
    Long = {take_long_schedules(), (scheduler_wait_ns() - Wait0) div 1000000},
    Why = why(Setup, Count, Sent),
    Teardown(),
    {Name, result(lists:sum([Ns || {Ns, _} <- Done]) / Sent, Count, Sent, Long, Why)}.

result(CallerNs, undefined, Sent, Long, Why) ->
    #{caller_ns => CallerNs, rate => undefined, received => undefined, sent => Sent,
      bytes => undefined, long => Long, why => lists:flatten(Why)};
result(CallerNs, {Received, Bytes, Ns}, Sent, Long, Why) ->
    #{caller_ns => CallerNs, rate => rate(Received, Ns), received => Received, sent => Sent,
      bytes => Bytes div max(1, Received), long => Long, why => lists:flatten(Why)}.

rate(_Received, Ns) when Ns =< 0 -> 0.0;
rate(Received, Ns) -> Received * 1.0e9 / Ns.

binary_to_number(S) ->
    try list_to_float(S) catch error:badarg -> float(list_to_integer(S)) end.

spawn_worker(Parent, N, Message) ->
    spawn_link(fun() ->
                       Deadline = receive {go, D} -> D end,
                       T0 = erlang:monotonic_time(nanosecond),
                       Count = log_loop(N, Message, Deadline, 0),
                       Parent ! {done, self(), erlang:monotonic_time(nanosecond) - T0, Count}
               end).

%% ?CHUNK calls between looks at the clock.
log_loop(N, _Message, _Deadline, Done) when Done >= N ->
    Done;
log_loop(N, Message, Deadline, Done) ->
    Chunk = min(?CHUNK, N - Done),
    log_chunk(Chunk, Message),
    case erlang:monotonic_time(millisecond) >= Deadline of
        true -> Done + Chunk;
        false -> log_loop(N, Message, Deadline, Done + Chunk)
    end.

log_chunk(0, _Message) ->
    ok;
log_chunk(N, Message) ->
    logger:info("~ts", [Message]),
    log_chunk(N - 1, Message).

%% Each row's handler, installed for the row only; returns how to remove it.
install({vigil, Path}) ->
    Config = #{socket_path => Path, burst_limit_enable => false,
               syslog_identifier => ?IDENTIFIER},
    ok = logger:add_handler(bench_vigil, vigil_journal_h, #{config => Config}),
    fun() -> ok = logger:remove_handler(bench_vigil) end;
install({gen_udp, Path}) ->
    {ok, Pid, Olp} = logger_olp:start_link(?OLP, ?MODULE, Path, #{burst_limit_enable => false}),
    unlink(Pid),
    ok = logger:add_handler(bench_gen_udp, ?MODULE,
                            #{config => #{olp => Olp}, formatter => ?FORMATTER}),
    fun() ->
            ok = logger:remove_handler(bench_gen_udp),
            ok = logger_olp:stop(Olp)
    end;
install(floor) ->
    ok = logger:add_handler(bench_floor, ?MODULE,
                            #{config => #{olp => none}, formatter => ?FORMATTER}),
    fun() -> ok = logger:remove_handler(bench_floor) end;
install({std_h, File, Olp}) ->
    _ = file:delete(File),
    ok = logger:add_handler(bench_std_h, logger_std_h, #{config => Olp#{file => File}}),
    fun() ->
            ok = logger:remove_handler(bench_std_h),
            ok = file:delete(File)
    end.

%% When the last entry arrived: {Entries, Bytes, ns since the first call}.
finish({std_h, File, _}, Start, _Sent) ->
    ok = logger_std_h:filesync(bench_std_h),
    End = erlang:monotonic_time(nanosecond),
    {ok, Data} = file:read_file(File),
    {length(binary:matches(Data, <<"\n">>)), byte_size(Data), End - Start};
finish({gen_udp, _}, _Start, Sent) ->
    %% The owner has handled everything queued before this call once it answers.
    _ = gen_server:call(?OLP, failed, infinity),
    settle(Sent);
finish({vigil, _}, _Start, Sent) ->
    settle(Sent);
finish(floor, _Start, _Sent) ->
    undefined.

%% Why entries were dropped, as far as the sender can tell.
why(floor, _Count, _Sent) ->
    "";
why(_Setup, {Received, _, _}, Sent) when Received >= Sent ->
    "";
why({vigil, _}, _Count, _Sent) ->
    {ok, Dropped} = vigil_journal_h:dropped(bench_vigil),
    lists:join(", ", [io_lib:format("~ts ~b", [R, N]) || {R, N} <- maps:to_list(Dropped), N > 0]);
why({gen_udp, _}, {Received, _, _}, Sent) ->
    Failed = gen_server:call(?OLP, failed, infinity),
    io_lib:format("overload protection ~b, send errors ~b", [Sent - Received - Failed, Failed]);
why({std_h, _, #{burst_limit_enable := false}}, _Count, _Sent) ->
    "overload protection";
why({std_h, _, _}, _Count, _Sent) ->
    "burst limit and overload protection".

%% ---- the receiver ----

start_receiver(CBench, Path) ->
    Port = open_port({spawn_executable, CBench},
                     [{args, ["receive", Path]}, {line, 128}, binary, use_stdio]),
    receive {Port, {data, {eol, <<"ready">>}}} -> Port
    after 5000 -> error(receiver_did_not_start)
    end.

ask(Command) ->
    Port = get(receiver),
    port_command(Port, [Command, $\n]),
    receive {Port, {data, {eol, Line}}} -> Line
    after 5000 -> error(receiver_did_not_answer)
    end.

mark() ->
    <<"ok">> = ask("mark"),
    ok.

count() ->
    [E, B, Ns] = binary:split(ask("count"), <<" ">>, [global]),
    {binary_to_integer(E), binary_to_integer(B), binary_to_integer(Ns)}.

%% Waits until Expected entries arrived, or the count stood still for ?QUIET_MS.
settle(Expected) ->
    settle(Expected, count(), erlang:monotonic_time(millisecond)).

settle(Expected, {Received, _, _} = Count, _Since) when Received >= Expected ->
    Count;
settle(Expected, {Received, _, _} = Count, Since) ->
    timer:sleep(10),
    case count() of
        {Received, _, _} = Same ->
            case erlang:monotonic_time(millisecond) - Since >= ?QUIET_MS of
                true -> Same;
                false -> settle(Expected, Count, Since)
            end;
        Next ->
            settle(Expected, Next, erlang:monotonic_time(millisecond))
    end.

%% ---- long schedules, and the time the OS kept the schedulers from a core ----

%% One process is the VM's system monitor for the whole bench.
start_long_schedule_monitor() ->
    Pid = spawn_link(fun() -> long_schedules(0) end),
    _ = erlang:system_monitor(Pid, [{long_schedule, 1}]),
    Pid.

long_schedules(N) ->
    receive
        {monitor, _, long_schedule, _} -> long_schedules(N + 1);
        {take, From} -> From ! {long_schedules, N}, long_schedules(0)
    end.

take_long_schedules() ->
    get(monitor) ! {take, self()},
    receive {long_schedules, N} -> N end.

%% The second field of /proc/<pid>/task/<tid>/schedstat: ns runnable, waiting for a CPU.
scheduler_wait_ns() ->
    Task = "/proc/" ++ os:getpid() ++ "/task/",
    {ok, Tids} = file:list_dir(Task),
    lists:sum([wait_ns(Task ++ Tid) || Tid <- Tids, is_scheduler(Task ++ Tid)]).

is_scheduler(Dir) ->
    case file:read_file(Dir ++ "/comm") of
        {ok, Comm} -> re:run(Comm, "^[0-9]+_scheduler", [{capture, none}]) =:= match;
        _ -> false
    end.

wait_ns(Dir) ->
    case file:read_file(Dir ++ "/schedstat") of
        {ok, Stat} -> binary_to_integer(lists:nth(2, string:lexemes(Stat, " \n")));
        _ -> 0
    end.

loadavg() ->
    case file:read_file("/proc/loadavg") of
        {ok, Bin} -> lists:join(" ", lists:sublist(string:lexemes(Bin, " "), 3));
        _ -> "?"
    end.

%% ---- the gen_udp row's handler: logger's side, in the logging process ----

-spec adding_handler(logger:handler_config()) -> {ok, logger:handler_config()}.
adding_handler(Config) ->
    {ok, Config}.

-spec removing_handler(logger:handler_config()) -> ok.
removing_handler(_Config) ->
    ok.

%% Formats and encodes here, as systemd_journal_h does; the owner only sends.
-spec log(logger:log_event(), logger:handler_config()) -> ok.
log(#{level := Level, meta := Meta} = Event, #{config := #{olp := Olp}} = Config) ->
    {Formatter, FConfig} = maps:get(formatter, Config),
    Message = unicode:characters_to_binary(Formatter:format(Event, FConfig)),
    Fields = [{<<"MESSAGE">>, Message},
              {<<"PRIORITY">>, priority(Level)},
              {<<"SYSLOG_IDENTIFIER">>, ?IDENTIFIER},
              {<<"ERL_PID">>, list_to_binary(pid_to_list(maps:get(pid, Meta)))}],
    Datagram = iolist_to_binary([encode(K, V) || {K, V} <- Fields]),
    case Olp of
        none -> ok;
        _ -> logger_olp:load(Olp, Datagram)
    end.

priority(info) -> <<"6">>;
priority(_) -> <<"3">>.

%% journald's native protocol: KEY=VALUE, or the binary form when the value has a newline.
encode(Key, Value) ->
    case binary:match(Value, <<"\n">>) of
        nomatch -> [Key, $=, Value, $\n];
        _ -> [Key, $\n, <<(byte_size(Value)):64/little>>, Value, $\n]
    end.

%% ---- the gen_udp row's handler: the socket owner (logger_olp callbacks) ----

-spec init(string()) -> {ok, map()}.
init(Path) ->
    {ok, Socket} = gen_udp:open(0, [local, binary, {active, false}]),
    {ok, #{socket => Socket, address => {local, Path}, failed => 0}}.

-spec handle_load(binary(), map()) -> map().
handle_load(Datagram, #{socket := Socket, address := Address, failed := Failed} = State) ->
    case gen_udp:send(Socket, Address, 0, Datagram) of
        ok -> State;
        {error, _} -> State#{failed := Failed + 1}
    end.

%% The sends that failed.
-spec handle_call(failed, term(), map()) -> {reply, non_neg_integer(), map()}.
handle_call(failed, _From, #{failed := Failed} = State) ->
    {reply, Failed, State}.

-spec terminate(term(), map()) -> ok.
terminate(_Reason, #{socket := Socket}) ->
    gen_udp:close(Socket).

%% ---- the table ----

%% Per case and row, the rounds merged as the module's documentation says.
best([First | _] = Rounds) ->
    [{Case, [{Name, merge([R || Round <- Rounds, {C, Rows} <- Round, C =:= Case,
                                {N, R} <- Rows, N =:= Name])}
             || {Name, _} <- FirstRows]}
     || {Case, FirstRows} <- First].

merge(Ms) ->
    Worst = hd(lists:sort(fun(#{received := A}, #{received := B}) -> A =< B end, Ms)),
    Worst#{caller_ns := lists:min([C || #{caller_ns := C} <- Ms]),
           rate := lists:max([R || #{rate := R} <- Ms]),
           long := sum_long([L || #{long := L} <- Ms])}.

sum_long([undefined | _]) -> undefined;
sum_long(Ls) -> {lists:sum([N || {N, _} <- Ls]), lists:sum([W || {_, W} <- Ls])}.

print(Cases, Path, Seconds, Load) ->
    io:format("~njournal handlers: ~b rounds, one receiver at ~ts, net.unix.max_dgram_qlen=~ts,~n"
              "~b schedulers, load average ~ts at the start, ~.1f s~n",
              [?ROUNDS, Path, qlen(), erlang:system_info(schedulers_online), Load, Seconds]),
    io:format("~n"
              "caller us  time in the logging call per entry (wall time), fastest round~n"
              "entries/s  entries the receiver counted / time until the last arrived, best round~n"
              "recv/sent  entries received of those logged, worst round (the rest were dropped)~n"
              "long_sch   long_schedule events over 1 ms in the VM, all rounds; os_wait: ms its~n"
              "           schedulers waited for a core meanwhile (what the OS took)~n"
              "vigil/row  vigil's caller us / this row's, then vigil's entries/s / this row's~n"),
    [print_case(Case, Rows) || {Case, Rows} <- Cases],
    ok.

print_case({Bytes, Procs}, [{_, Vigil} | _] = Rows) ->
    io:format("~n~b-byte messages, ~b logging ~ts~n", [Bytes, Procs, plural(Procs)]),
    io:format("  ~-34s ~9s ~10s ~13s ~7s ~8s ~7s ~13s  ~s~n",
              ["row", "caller us", "entries/s", "recv/sent", "B/entry", "long_sch", "os_wait",
               "vigil/row", "dropped by"]),
    [io:format("  ~-34s ~9.2f ~10s ~13s ~7s ~8s ~7s ~6s ~6s  ~ts~n",
               [Name, C / 1000, per_second(R), recv_sent(M), maybe(B), long(L, 1), long(L, 2),
                ratio(maps:get(caller_ns, Vigil), C), ratio(maps:get(rate, Vigil), R), Why])
     || {Name, #{caller_ns := C, rate := R, bytes := B, long := L, why := Why} = M} <- Rows],
    ok.

plural(1) -> "process (thread)";
plural(_) -> "processes (threads)".

recv_sent(#{received := undefined}) -> "-";
recv_sent(#{received := R, sent := S}) -> io_lib:format("~b/~b", [R, S]).

maybe(undefined) -> "-";
maybe(N) -> integer_to_list(N).

per_second(undefined) -> "-";
per_second(R) -> thousands(round(R)).

long(undefined, _) -> "-";
long(Long, I) -> integer_to_list(element(I, Long)).

ratio(_, undefined) -> "-";
ratio(_, Y) when Y == 0 -> "-";
ratio(X, Y) -> io_lib:format("~.2f", [X / Y]).

thousands(N) when N < 1000 -> integer_to_list(N);
thousands(N) -> io_lib:format("~ts ~3..0b", [thousands(N div 1000), N rem 1000]).

qlen() ->
    case file:read_file("/proc/sys/net/unix/max_dgram_qlen") of
        {ok, Bin} -> string:trim(Bin);
        _ -> "?"
    end.

not_measured() ->
    io:format("~n*** libsystemd sd_journal_sendv() was NOT measured: it only sends to ~ts,~n"
              "*** which the bench can point at its receiver only as root (a mount namespace).~n"
              "*** Run `make bench-journal` as root for the ceiling row.~n",
              [?JOURNALD_SOCKET]).

%% vigil's rows must not keep a scheduler for over 1 ms. A long schedule is wall time, so the
%% count is shown beside the floor row's, which runs no NIF and no I/O: what the OS alone caused.
verdict(Cases) ->
    {Vigil, VigilWait} = long_schedules_of("vigil_journal_h", Cases),
    {Floor, _} = long_schedules_of("format only, no send (floor)", Cases),
    Text = case Vigil of
               0 -> "met";
               _ -> io_lib:format("NOT met~n  (the floor row, which runs no NIF and no I/O, "
                                  "had ~b; the OS kept the schedulers~n  waiting for a core ~b ms "
                                  "during vigil's rows)", [Floor, VigilWait])
           end,
    io:format("~ntarget: no long schedule over 1 ms in vigil_journal_h's rows: ~b, ~ts~n",
              [Vigil, Text]).

long_schedules_of(Row, Cases) ->
    Ls = [L || {_, Rows} <- Cases, {Name, #{long := L}} <- Rows, Name =:= Row],
    {lists:sum([N || {N, _} <- Ls]), lists:sum([W || {_, W} <- Ls])}.
