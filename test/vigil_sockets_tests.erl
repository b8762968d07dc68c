%% Socket activation and the fd store, for real: the fd store against a real AF_UNIX receiver
%% that reads the descriptors passed (SCM_RIGHTS) and opens them, and socket activation in a
%% child VM started as systemd starts a service (test/c/listen_exec.c: listening sockets at
%% descriptors 3 and up, LISTEN_* set, then exec of erl, which keeps the pid).
-module(vigil_sockets_tests).

-include_lib("eunit/include/eunit.hrl").

-compile([export_all, nowarn_export_all]).

%% ---- a manager that reads the fd store's messages ----

%% Reads every datagram: a barrier's pipe is closed `Delay' ms after it arrives (it is discarded
%% with the datagram, as the manager closes it once it has read what came before); any other
%% message is reported to the test process with its descriptors, opened as `socket' sockets.
%% `hold' reads nothing at all, so that a barrier never passes.
manager(R, Delay) ->
    Test = self(),
    Pid = spawn_link(fun() -> manager_loop(maps:get(socket, R), Test, Delay) end),
    Pid.

manager_loop(_S, _Test, hold) ->
    receive stop -> ok end;
manager_loop(S, Test, Delay) ->
    case socket:recv(S, 0, [peek], 50) of
        {ok, <<"BARRIER=1">>} ->
            timer:sleep(Delay),
            {ok, _} = socket:recv(S, 0, [], 1000),
            Test ! {manager, barrier};
        {ok, _} ->
            {ok, #{iov := [Data], ctrl := Ctrl}} = socket:recvmsg(S, 0, 2048, [], 1000),
            Test ! {manager, Data, [open_fd(Fd) || Fd <- rights(Ctrl)]};
        {error, timeout} ->
            ok
    end,
    receive stop -> ok after 0 -> manager_loop(S, Test, Delay) end.

rights(Ctrl) ->
    [Fd || #{level := socket, type := rights, data := Data} <- Ctrl,
           <<Fd:32/native>> <= Data].

%% The received descriptor as a socket of this VM, and what it is bound to.
open_fd(Fd) ->
    {ok, S} = socket:open(Fd, #{dup => false}),
    {ok, Name} = socket:sockname(S),
    {S, Name}.

%% Returns once the manager has stopped reading.
stop_manager(Pid) ->
    unlink(Pid),
    Ref = monitor(process, Pid),
    Pid ! stop,
    receive {'DOWN', Ref, process, Pid, _} -> ok end.

%% The next message the manager read, and the sockets it carried (closed here).
next_store(Timeout) ->
    receive
        {manager, Data, Opened} ->
            _ = [socket:close(S) || {S, _} <- Opened],
            {Data, [Name || {_, Name} <- Opened]};
        {manager, barrier} ->
            barrier
    after Timeout ->
        nothing
    end.

port_of(#{port := Port}) -> Port.

with_manager(Tests) ->
    vigil_test_receiver:foreach_under_manager(?MODULE, Tests).

fd_store_test_() ->
    with_manager([store_inet_backend, store_socket_backend, store_socket_module,
                  store_raw_fd_and_udp, store_waits_for_barrier, store_groups_by_name,
                  store_without_poll, remove_sends_name, invalid_names_send_nothing,
                  closed_socket_sends_nothing, store_badarg, too_many_fds,
                  barrier_not_passed_times_out]).

%% ---- the fd store ----

store_and_read(R, Entries, Options) ->
    M = manager(R, 0),
    try
        Result = vigil:store_fds(Entries, Options),
        {Result, next_store(1000), next_store(1000)}
    after
        stop_manager(M)
    end.

store_inet_backend(R) ->
    {ok, L} = gen_tcp:listen(0, [{backlog, 7}]),
    {ok, Port} = inet:port(L),
    {ok, Store, barrier} = store_and_read(R, [{<<"web">>, L}], #{}),
    ?assertMatch({<<"FDSTORE=1\nFDNAME=web">>, [#{family := inet}]}, Store),
    ?assertEqual([Port], [port_of(N) || N <- element(2, Store)]),
    %% Still the caller's, and still listening.
    ?assertMatch({ok, _}, gen_tcp:connect({127, 0, 0, 1}, Port, [])),
    ok = gen_tcp:close(L).

store_socket_backend(R) ->
    {ok, L} = gen_tcp:listen(0, [{inet_backend, socket}, inet6, {ip, {0, 0, 0, 0, 0, 0, 0, 1}}]),
    {ok, Port} = inet:port(L),
    {ok, {Data, [Name]}, barrier} = store_and_read(R, [{"web6", L}], []),
    ?assertEqual(<<"FDSTORE=1\nFDNAME=web6">>, Data),
    ?assertMatch(#{family := inet6, addr := {0, 0, 0, 0, 0, 0, 0, 1}}, Name),
    ?assertEqual(Port, port_of(Name)),
    ok = gen_tcp:close(L).

store_socket_module(R) ->
    {ok, S} = socket:open(inet, stream, tcp),
    ok = socket:bind(S, #{family => inet, addr => loopback, port => 0}),
    ok = socket:listen(S, 3),
    {ok, #{port := Port}} = socket:sockname(S),
    {ok, {<<"FDSTORE=1\nFDNAME=raw">>, [Name]}, barrier} = store_and_read(R, [{<<"raw">>, S}], #{}),
    ?assertEqual(Port, port_of(Name)),
    ok = socket:close(S).

store_raw_fd_and_udp(R) ->
    {ok, U} = gen_udp:open(0, [{ip, loopback}]),
    {ok, UPort} = inet:port(U),
    {ok, L} = gen_tcp:listen(0, []),
    {ok, Fd} = inet:getfd(L),
    {ok, Port} = inet:port(L),
    {ok, {_, Names}, barrier} = store_and_read(R, [{"mixed", Fd}, {"mixed", U}], #{}),
    ?assertEqual([Port, UPort], [port_of(N) || N <- Names]),
    ok = gen_udp:close(U),
    ok = gen_tcp:close(L).

%% store_fds returns once the manager has read the messages and closed the barrier's pipe.
store_waits_for_barrier(R) ->
    {ok, L} = gen_tcp:listen(0, []),
    M = manager(R, 300),
    {Us, Result} = timer:tc(fun() -> vigil:store_fds([{"slow", L}]) end),
    stop_manager(M),
    ?assertEqual(ok, Result),
    ?assert(Us >= 300000),
    ?assertMatch({<<"FDSTORE=1\nFDNAME=slow">>, [_]}, next_store(0)),
    ?assertEqual(barrier, next_store(0)),
    ok = gen_tcp:close(L).

%% FDNAME= names every descriptor of its message: one message per name, names in the order they
%% first come, each with its descriptors in order.
store_groups_by_name(R) ->
    Ls = [element(2, gen_tcp:listen(0, [])) || _ <- [1, 2, 3]],
    Ports = [element(2, inet:port(L)) || L <- Ls],
    [A, B, C] = Ls,
    M = manager(R, 0),
    ?assertEqual(ok, vigil:store_fds([{"a", A}, {"b", B}, {<<"a">>, C}])),
    {DataA, NamesA} = next_store(1000),
    {DataB, NamesB} = next_store(1000),
    ?assertEqual(barrier, next_store(1000)),
    stop_manager(M),
    ?assertEqual({<<"FDSTORE=1\nFDNAME=a">>, [lists:nth(1, Ports), lists:nth(3, Ports)]},
                 {DataA, [port_of(N) || N <- NamesA]}),
    ?assertEqual({<<"FDSTORE=1\nFDNAME=b">>, [lists:nth(2, Ports)]},
                 {DataB, [port_of(N) || N <- NamesB]}),
    [ok = gen_tcp:close(L) || L <- Ls].

store_without_poll(R) ->
    {ok, L} = gen_tcp:listen(0, []),
    {ok, {Data, [_]}, barrier} = store_and_read(R, [{"conn", L}], [{poll, false}]),
    ?assertEqual(<<"FDSTORE=1\nFDNAME=conn\nFDPOLL=0">>, Data),
    ok = gen_tcp:close(L).

remove_sends_name(R) ->
    M = manager(R, 0),
    ?assertEqual(ok, vigil:remove_fds("conn")),
    ?assertEqual({<<"FDSTOREREMOVE=1\nFDNAME=conn">>, []}, next_store(1000)),
    ?assertEqual(barrier, next_store(1000)),
    ?assertEqual({error, {invalid_name, <<"a:b">>}}, vigil:remove_fds(<<"a:b">>)),
    ?assertEqual(nothing, next_store(100)),
    stop_manager(M).

%% systemd's rule (ASCII, no control character, no ':', at most 255 bytes), and no backslash
%% (unescaped on the way), and not empty (the name "stored"): refused before anything is sent,
%% the valid entries before them included.
invalid_names_send_nothing(R) ->
    {ok, L} = gen_tcp:listen(0, []),
    M = manager(R, 0),
    Bad = [<<>>, "a:b", "a\nb", "a\\b", <<"caf", 16#E9/utf8>>, [$x, 16#1F600],
           lists:duplicate(256, $x), <<127>>],
    [?assertEqual({error, {invalid_name, Name}}, vigil:store_fds([{"good", L}, {Name, L}]))
     || Name <- Bad],
    ?assertEqual(nothing, next_store(200)),
    ?assertEqual(ok, vigil:store_fds([{lists:duplicate(255, $x), L}])),
    ?assertMatch({<<"FDSTORE=1\nFDNAME=xxx", _/binary>>, [_]}, next_store(1000)),
    stop_manager(M),
    ok = gen_tcp:close(L).

closed_socket_sends_nothing(R) ->
    {ok, Open} = gen_tcp:listen(0, []),
    {ok, L1} = gen_tcp:listen(0, []),
    {ok, L2} = gen_tcp:listen(0, [{inet_backend, socket}]),
    {ok, S} = socket:open(inet, stream, tcp),
    [ok = gen_tcp:close(L) || L <- [L1, L2]],
    ok = socket:close(S),
    M = manager(R, 0),
    [?assertEqual({error, ebadf}, vigil:store_fds([{"open", Open}, {"closed", Closed}]))
     || Closed <- [L1, L2, S]],
    ?assertEqual(nothing, next_store(200)),
    stop_manager(M),
    ok = gen_tcp:close(Open).

store_badarg(_R) ->
    {ok, L} = gen_tcp:listen(0, []),
    ?assertError(badarg, vigil:store_fds(not_a_list)),
    ?assertError(badarg, vigil:store_fds([{1, L}])),
    ?assertError(badarg, vigil:store_fds([{"a", make_ref()}])),
    ?assertError(badarg, vigil:store_fds([{"a", -1}])),
    ?assertError(badarg, vigil:store_fds([{"a", L} | tail])),
    ?assertError(badarg, vigil:store_fds([{"a", L}], #{pol => false})),
    ?assertError(badarg, vigil:store_fds([{"a", L}], #{poll => no})),
    ?assertError(badarg, vigil:store_fds([{"a", L}], #{timeout => -1})),
    ?assertError(badarg, vigil:remove_fds(web)),
    ?assertError(badarg, vigil:remove_fds("web", #{poll => true})),
    ok = gen_tcp:close(L).

%% One message carries at most 253 descriptors (SCM_MAX_FD): more under one name is e2big.
too_many_fds(R) ->
    {ok, L} = gen_tcp:listen(0, []),
    M = manager(R, 0),
    ?assertEqual({error, e2big}, vigil:store_fds([{"many", L} || _ <- lists:seq(1, 254)])),
    ?assertEqual(nothing, next_store(200)),
    stop_manager(M),
    ok = gen_tcp:close(L).

%% A manager that reads nothing never closes the barrier's pipe.
barrier_not_passed_times_out(R) ->
    {ok, L} = gen_tcp:listen(0, []),
    M = manager(R, hold),
    ?assertEqual({error, timeout}, vigil:store_fds([{"web", L}], #{timeout => 200})),
    stop_manager(M),
    ok = gen_tcp:close(L).

no_manager_test_() ->
    {setup, fun vigil_test_receiver:start_vigil_without_manager/0,
     fun() ->
             {ok, L} = gen_tcp:listen(0, []),
             ?assertEqual(ok, vigil:store_fds([{"web", L}])),
             ?assertEqual(ok, vigil:remove_fds("web")),
             ?assertEqual({error, {invalid_name, "a:b"}}, vigil:store_fds([{"a:b", L}])),
             ?assertEqual([], vigil:listen_fds()),
             ?assertEqual({error, not_found}, vigil:listen_options("web")),
             ?assertEqual({error, not_found}, vigil:listen_options(3)),
             ?assertError(badarg, vigil:listen_options(web)),
             ok = gen_tcp:close(L)
     end}.

%% ---- socket activation, in a child VM ----

%% test/c/listen_exec.c, built for the child VM tests into a directory removed after them.
build_listen_exec() ->
    Source = filename:join([filename:dirname(proplists:get_value(source, ?MODULE:module_info(compile))),
                            "c", "listen_exec.c"]),
    Dir = filename:join("/tmp", "vigil-listen-exec-" ++ os:getpid() ++ "-"
                        ++ integer_to_list(erlang:unique_integer([positive]))),
    Exec = filename:join(Dir, "listen_exec"),
    ok = filelib:ensure_dir(Exec),
    Cmd = ["cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o ", Exec, " ", Source, " 2>&1 && echo built"],
    ?assertEqual("built\n", os:cmd(lists:flatten(Cmd))),
    persistent_term:put({?MODULE, listen_exec}, Exec),
    Dir.

remove_listen_exec(Dir) ->
    persistent_term:erase({?MODULE, listen_exec}),
    ok = file:del_dir_r(Dir).

listen_exec() ->
    persistent_term:get({?MODULE, listen_exec}).

%% Start a VM through listen_exec with Args, run child(Case) in it, and return its result and
%% everything it printed.
run_child(Args, Case) ->
    Root = code:root_dir(),
    Paths = [P || P <- code:get_path(), not lists:prefix(Root, P), P =/= "."],
    Erl = os:find_executable("erl"),
    Eval = lists:flatten(io_lib:format("~p:child(~p)", [?MODULE, Case])),
    Port = open_port({spawn_executable, listen_exec()},
                     [{args, Args ++ ["--", Erl, "-noshell", "-pa" | Paths] ++ ["-eval", Eval]},
                      exit_status, stderr_to_stdout, binary]),
    Output = collect(Port, <<>>),
    case binary:split(Output, <<"=RESULT=\n">>) of
        [Printed, Term] ->
            {ok, Tokens, _} = erl_scan:string(binary_to_list(Term)),
            {ok, Result} = erl_parse:parse_term(Tokens),
            {Result, Printed};
        [_] ->
            error({child_failed, Output})
    end.

collect(Port, Acc) ->
    receive
        {Port, {data, Data}} -> collect(Port, <<Acc/binary, Data/binary>>);
        {Port, {exit_status, 0}} -> Acc;
        {Port, {exit_status, Status}} -> error({child_exit, Status, Acc})
    after 60000 -> error({child_timeout, Acc})
    end.

%% In the child VM: start vigil as a release would, run the case, print its result.
child(Case) ->
    ok = logger:set_primary_config(level, notice),
    {ok, _} = application:ensure_all_started(vigil),
    Result = try child_case(Case)
             catch Class:Reason:Stack -> {crashed, Class, Reason, Stack}
             end,
    io:format("=RESULT=~n~p.~n", [Result]),
    halt(0).

listen_vars() ->
    [os:getenv(V) || V <- ["LISTEN_PID", "LISTEN_PIDFDID", "LISTEN_FDS", "LISTEN_FDNAMES"]].

%% Whether descriptor Fd of this VM is close-on-exec, as the kernel reports it (O_CLOEXEC in the
%% octal flags of /proc/PID/fdinfo/FD).
cloexec(Fd) ->
    {ok, Info} = file:read_file(io_lib:format("/proc/~s/fdinfo/~b", [os:getpid(), Fd])),
    {match, [Octal]} = re:run(Info, "flags:\\s*([0-7]+)", [{capture, all_but_first, list}]),
    list_to_integer(Octal, 8) band 8#2000000 =/= 0.

%% The accept queue limit of the listener on Port, as ss(8) shows it (Send-Q of a listener).
ss_backlog(Port) ->
    Line = os:cmd("ss -ltnH 'sport = :" ++ integer_to_list(Port) ++ "'"),
    [_State, _RecvQ, SendQ | _] = string:lexemes(Line, " \n"),
    list_to_integer(SendQ).

listener_port(L) ->
    {ok, Port} = inet:port(L),
    Port.

accepts(L, Family) ->
    Loopback = case Family of inet6 -> {0, 0, 0, 0, 0, 0, 0, 1}; inet -> {127, 0, 0, 1} end,
    {ok, C} = gen_tcp:connect(Loopback, listener_port(L), [Family]),
    {ok, A} = gen_tcp:accept(L, 1000),
    ok = gen_tcp:close(C),
    ok = gen_tcp:close(A).

child_case(activated) ->
    Fds = vigil:listen_fds(),
    %% gen_tcp, inet backend, on the [::] socket.
    {ok, HttpOpts} = vigil:listen_options("http"),
    {ok, L} = gen_tcp:listen(0, HttpOpts ++ [{active, false}]),
    HttpPort = listener_port(L),
    ok = accepts(L, inet6),
    %% gen_tcp, socket backend, on a second duplicate of the same socket.
    {ok, HttpOpts2} = vigil:listen_options(<<"http">>),
    {ok, L2} = gen_tcp:listen(0, [{inet_backend, socket} | HttpOpts2]),
    ok = accepts(L2, inet6),
    %% The socket module on the IPv4 one.
    {ok, AdminOpts} = vigil:listen_options(<<"admin">>),
    {fd, AdminFd} = lists:keyfind(fd, 1, AdminOpts),
    {backlog, AdminBacklog} = lists:keyfind(backlog, 1, AdminOpts),
    {ok, S} = socket:open(AdminFd, #{dup => false}),
    ok = socket:listen(S, AdminBacklog),
    {ok, #{port := AdminPort}} = socket:sockname(S),
    {ok, C} = gen_tcp:connect({127, 0, 0, 1}, AdminPort, []),
    {ok, A} = socket:accept(S, 1000),
    ok = socket:close(A),
    ok = gen_tcp:close(C),
    %% AF_UNIX.
    {ok, CtlOpts} = vigil:listen_options("ctl"),
    {ok, Ctl} = gen_tcp:listen(0, CtlOpts),
    {ok, {local, CtlPath}} = inet:sockname(Ctl),
    CtlBacklog = hd([B || #{name := <<"ctl">>, backlog := B} <- vigil:listen_fds()]),
    %% Closing a listener closes its duplicate only: a new one opens on the same socket.
    ok = gen_tcp:close(L),
    {ok, HttpOpts3} = vigil:listen_options("http"),
    {ok, L3} = gen_tcp:listen(0, HttpOpts3),
    ok = accepts(L3, inet6),
    HttpBacklog = ss_backlog(HttpPort),
    AdminSsBacklog = ss_backlog(AdminPort),
    %% vigil restarted in the same VM keeps them.
    ok = application:stop(vigil),
    ok = application:start(vigil),
    Again = [maps:get(fd, F) || F <- vigil:listen_fds()],
    %% A datagram socket, through gen_udp.
    {ok, DnsOpts} = vigil:listen_options("dns"),
    {ok, Dns} = gen_udp:open(0, DnsOpts),
    %% What the family and the backlog are there for: without them, gen_tcp fails on the IPv6
    %% socket, and shrinks the accept queue of the socket systemd shares.
    {ok, [{tcp_module, _}, {fd, HttpFd} | _]} = vigil:listen_options("http"),
    NoFamily = gen_tcp:listen(0, [{fd, HttpFd}]),
    {ok, [_, {fd, AdminFd2} | _]} = vigil:listen_options("admin"),
    {ok, Shrunk} = gen_tcp:listen(0, [{fd, AdminFd2}]),
    ShrunkBacklog = ss_backlog(listener_port(Shrunk)),
    #{fds => Fds,
      http_options => HttpOpts, admin_options => AdminOpts, ctl_options => CtlOpts,
      dns_options => DnsOpts, dns_port => listener_port(Dns), no_family => NoFamily,
      http_port => HttpPort, http_ss_backlog => HttpBacklog,
      admin_ss_backlog => AdminSsBacklog, ctl_path => CtlPath, ctl_backlog => CtlBacklog,
      shrunk_backlog => ShrunkBacklog, again => Again,
      not_found => vigil:listen_options("nope"), not_a_socket => vigil:listen_options("state"),
      by_fd => vigil:listen_options(4),
      vars => listen_vars(), child_env => os:cmd("env | grep ^LISTEN_"),
      cloexec => [cloexec(Fd) || Fd <- lists:seq(3, 7)]};
child_case(listed) ->
    #{fds => vigil:listen_fds(), vars => listen_vars(), cloexec => cloexec(3),
      options => vigil:listen_options("unknown")}.

%% Each test starts a VM of its own (some 0.4 s).
socket_activation_test_() ->
    {setup, fun build_listen_exec/0, fun remove_listen_exec/1,
     [{timeout, 60, {atom_to_list(Name), fun ?MODULE:Name/0}}
      || Name <- [activated, other_pid, other_pidfd, count_mismatch, closed_descriptor,
                  unnamed]]}.

activated() ->
    {R, _} = run_child(["-s", "tcp6:100", "-s", "tcp4:50", "-s", "unix:33", "-s", "udp4",
                        "-s", "file", "-n", "http:admin:ctl:dns:state", "-i", "self"],
                       activated),
    #{fds := Fds} = R,
    ?assertMatch([#{name := <<"http">>, fd := 3, family := inet6, type := stream,
                    listening := true, addr := {0, 0, 0, 0, 0, 0, 0, 0}, backlog := 100},
                  #{name := <<"admin">>, fd := 4, family := inet, type := stream,
                    listening := true, addr := {127, 0, 0, 1}, backlog := 50},
                  #{name := <<"ctl">>, fd := 5, family := local, type := stream,
                    listening := true, path := <<0, _/binary>>, backlog := 33},
                  #{name := <<"dns">>, fd := 6, family := inet, type := dgram,
                    listening := false, port := _},
                  #{name := <<"state">>, fd := 7, family := undefined, type := undefined,
                    listening := false}], Fds),
    ?assertEqual(maps:get(http_port, R), port_of(hd(Fds))),
    %% The family for [::], a descriptor of the listener's own, the socket's backlog.
    ?assertMatch([{tcp_module, inet6_tcp}, {fd, Dup}, {backlog, 100}] when Dup > 7,
                 maps:get(http_options, R)),
    ?assertMatch([{tcp_module, inet_tcp}, {fd, _}, {backlog, 50}], maps:get(admin_options, R)),
    ?assertMatch([{tcp_module, local_tcp}, {fd, _}, {backlog, 33}], maps:get(ctl_options, R)),
    ?assertMatch([{udp_module, inet_udp}, {fd, _}], maps:get(dns_options, R)),
    ?assertEqual(maps:get(dns_port, R), port_of(lists:nth(4, Fds))),
    %% Without the family gen_tcp fails on the IPv6 socket: what the option is there for.
    ?assertEqual({error, einval}, maps:get(no_family, R)),
    %% Each listener opened with them left systemd's queue as it was.
    ?assertEqual(100, maps:get(http_ss_backlog, R)),
    ?assertEqual(50, maps:get(admin_ss_backlog, R)),
    ?assertEqual(33, maps:get(ctl_backlog, R)),
    ?assertMatch(<<0, "vigil-listen-exec-", _/binary>>, maps:get(ctl_path, R)),
    %% What the backlog option prevents: gen_tcp's default.
    ?assertEqual(5, maps:get(shrunk_backlog, R)),
    ?assertEqual([3, 4, 5, 6, 7], maps:get(again, R)),
    ?assertEqual({error, not_found}, maps:get(not_found, R)),
    ?assertEqual({error, not_a_socket}, maps:get(not_a_socket, R)),
    ?assertMatch({ok, [{tcp_module, inet_tcp}, {fd, _}, {backlog, _}]}, maps:get(by_fd, R)),
    %% Taken out of the environment, so that no child claims them, and close-on-exec.
    ?assertEqual([false, false, false, false], maps:get(vars, R)),
    ?assertEqual("", maps:get(child_env, R)),
    ?assertEqual([true, true, true, true, true], maps:get(cloexec, R)).

%% LISTEN_PID names another process: nothing is taken, nothing touched, the variables removed
%% all the same.
other_pid() ->
    {R, _} = run_child(["-s", "tcp4:10", "-p", "1"], listed),
    ?assertEqual(#{fds => [], vars => [false, false, false, false], cloexec => false,
                   options => {error, not_found}}, R).

%% LISTEN_PIDFDID names another process: where pidfds live in pidfs (Linux 6.9 and later) the
%% kernel can tell, and nothing is taken; before, LISTEN_PID alone decides, as sd_listen_fds().
other_pidfd() ->
    {R, _} = run_child(["-s", "tcp4:10", "-i", "12345"], listed),
    case os:version() >= {6, 9, 0} of
        true -> ?assertMatch(#{fds := [], cloexec := false}, R);
        false -> ?assertMatch(#{fds := [#{fd := 3}], cloexec := true}, R)
    end.

%% A count that differs from the names, or a descriptor that is not there: an error from
%% listen_fds/0 and listen_options/1, a log line that says what is wrong, and the application
%% running.
count_mismatch() ->
    {R, Printed} = run_child(["-s", "tcp4:10", "-n", "a:b"], listed),
    ?assertMatch(#{fds := {error, {bad_listen_env, einval}},
                   options := {error, {bad_listen_env, einval}},
                   vars := [false, false, false, false]}, R),
    ?assertMatch({_, _}, binary:match(Printed, <<"LISTEN_FDNAMES=a:b">>)),
    ?assertMatch({_, _}, binary:match(Printed, <<"socket activation">>)).

%% (Descriptors just above those passed are the VM's own by the time vigil starts: a count far
%% past them.)
closed_descriptor() ->
    {R, Printed} = run_child(["-s", "tcp4:10", "-c", "1000"], listed),
    ?assertMatch(#{fds := {error, {bad_listen_env, ebadf}}}, R),
    ?assertMatch({_, _}, binary:match(Printed, <<"not open">>)).

%% Without LISTEN_FDNAMES every descriptor is "unknown", as sd_listen_fds_with_names() names it.
unnamed() ->
    {R, _} = run_child(["-s", "tcp4:10", "-s", "tcp4:11"], listed),
    ?assertMatch(#{fds := [#{name := <<"unknown">>, fd := 3, backlog := 10},
                           #{name := <<"unknown">>, fd := 4, backlog := 11}],
                   options := {ok, [{tcp_module, inet_tcp}, {fd, _}, {backlog, 10}]},
                   cloexec := true}, R).
