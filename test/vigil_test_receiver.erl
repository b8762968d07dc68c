%% @private
%% @doc A real AF_UNIX datagram receiver standing in for the manager, and helpers that point
%% the vigil application at it the way systemd does: through NOTIFY_SOCKET at start.
-module(vigil_test_receiver).

-export([open/1, address/1, recv/2, recv_all/1, close/1, close_socket/1, reopen/1,
         start_vigil_with/1, start_vigil_without_manager/0, fill_queue/1, drain/1,
         foreach_under_manager/2]).

-type receiver() :: #{socket := socket:socket() | undefined, address := binary(),
                      sockaddr := map(), kind := path | abstract, dir := string() | undefined}.
-export_type([receiver/0]).

-spec open(path | abstract) -> receiver().
open(path) ->
    Dir = tmp_dir(),
    Path = list_to_binary(filename:join(Dir, "notify")),
    bind(#{kind => path, dir => Dir, address => Path,
           sockaddr => #{family => local, path => Path}});
open(abstract) ->
    Name = iolist_to_binary(io_lib:format("vigil-eunit-~s-~b",
                                          [os:getpid(), erlang:unique_integer([positive])])),
    bind(#{kind => abstract, dir => undefined, address => <<"@", Name/binary>>,
           sockaddr => #{family => local, path => <<0, Name/binary>>}}).

bind(#{sockaddr := Addr} = R) ->
    {ok, S} = socket:open(local, dgram, default),
    ok = socket:bind(S, Addr),
    R#{socket => S}.

tmp_dir() ->
    Dir = filename:join("/tmp", "vigil-eunit-" ++ integer_to_list(erlang:unique_integer([positive]))
                        ++ "-" ++ os:getpid()),
    ok = file:make_dir(Dir),
    Dir.

-spec address(receiver()) -> binary().
address(#{address := A}) -> A.

-spec recv(receiver(), timeout()) -> {ok, binary()} | {error, term()}.
recv(#{socket := S}, Timeout) ->
    socket:recv(S, 0, Timeout).

%% Everything queued now.
-spec recv_all(receiver()) -> [binary()].
recv_all(R) ->
    case recv(R, 50) of
        {ok, B} -> [B | recv_all(R)];
        {error, timeout} -> []
    end.

-spec drain(receiver()) -> non_neg_integer().
drain(R) -> length(recv_all(R)).

-spec close_socket(receiver()) -> receiver().
close_socket(#{socket := S, kind := Kind, address := A} = R) ->
    _ = socket:close(S), % a test may have closed and reopened it already
    Kind =:= path andalso file:delete(A),
    R#{socket => undefined}.

-spec reopen(receiver()) -> receiver().
reopen(R) -> bind(R).

-spec close(receiver()) -> ok.
close(#{socket := S, dir := Dir} = R) ->
    S =/= undefined andalso close_socket(R),
    Dir =/= undefined andalso file:del_dir(Dir),
    ok.

%% Restart the application with NOTIFY_SOCKET pointing at the receiver, as systemd starts a
%% service. Extra variables (WATCHDOG_USEC, ...) may be given too.
-spec start_vigil_with([{string(), string()}]) -> ok.
start_vigil_with(Vars) ->
    quiet_application_reports(),
    _ = application:stop(vigil),
    [true = os:putenv(K, V) || {K, V} <- Vars],
    ok = application:start(vigil).

-spec start_vigil_without_manager() -> ok.
start_vigil_without_manager() ->
    quiet_application_reports(),
    _ = application:stop(vigil),
    persistent_term:erase({vigil, env}),
    [os:unsetenv(V) || V <- ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]],
    ok = application:start(vigil).

%% An EUnit fixture: each of Module:Name(Receiver) for Name in Tests with vigil started under a
%% fresh receiver standing in for the manager, and vigil without a manager afterwards.
-spec foreach_under_manager(module(), [atom()]) -> term().
foreach_under_manager(Module, Tests) ->
    {foreach,
     fun() ->
             R = open(path),
             start_vigil_with([{"NOTIFY_SOCKET", binary_to_list(address(R))}]),
             R
     end,
     fun(R) ->
             close(R),
             start_vigil_without_manager()
     end,
     [fun(R) -> {atom_to_list(Name), fun() -> Module:Name(R) end} end || Name <- Tests]}.

%% Send pings until the receiver's queue refuses one; returns how many it holds.
-spec fill_queue(non_neg_integer()) -> non_neg_integer().
fill_queue(N) when N > 100000 -> error(queue_never_filled);
fill_queue(N) ->
    case vigil:watchdog(ping) of
        ok -> fill_queue(N + 1);
        {error, eagain} -> N
    end.

%% Stopping and starting the application for every test would fill the output with reports.
quiet_application_reports() ->
    logger:set_primary_config(level, notice).
