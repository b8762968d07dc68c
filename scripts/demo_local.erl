%% @private
%% @doc A service talking to a stand-in manager: a real AF_UNIX datagram socket that prints
%% every notification as the manager would read it.
-module(demo_local).

-export([main/0]).

-spec main() -> no_return().
main() ->
    ok = io:setopts(standard_io, [{encoding, unicode}]),
    Dir = filename:join("/tmp", "vigil-demo-" ++ os:getpid()),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Path = filename:join(Dir, "notify"),
    {ok, Socket} = socket:open(local, dgram, default),
    ok = socket:bind(Socket, #{family => local, path => list_to_binary(Path)}),
    Printer = spawn_link(fun() -> print_loop(Socket) end),
    os:putenv("NOTIFY_SOCKET", Path),
    {ok, _} = application:ensure_all_started(vigil),
    io:format("service: NOTIFY_SOCKET=~s, taken out of the environment: ~p~n~n",
              [Path, os:getenv("NOTIFY_SOCKET") =:= false]),
    step("starting", fun() -> vigil:status("starting: loading config") end),
    step("a long migration asks for more time", fun() -> vigil:extend_timeout(30000) end),
    step("an exception text cannot inject READY=1",
         fun() -> vigil:status("error: boom\nREADY=1") end),
    step("ready", fun() -> vigil:ready() end),
    step("serving", fun() -> vigil:status(<<"serving on :4000 — 0 requests"/utf8>>) end),
    step("watchdog ping", fun() -> vigil:watchdog(ping) end),
    step("reloading", fun() -> vigil:reloading() end),
    step("reloaded", fun() -> vigil:ready() end),
    step("strict notify refuses a newline",
         fun() -> vigil:notify([{"STATUS", "a\nREADY=1"}]) end),
    step("stopping", fun() -> vigil:stopping() end),
    step("barrier: wait until the manager has read everything", fun() -> vigil:barrier(1000) end),
    unlink(Printer),
    _ = file:del_dir_r(Dir),
    halt(0).

step(What, Fun) ->
    Result = Fun(),
    io:format("service: ~ts -> ~p~n", [What, Result]),
    timer:sleep(100).

print_loop(Socket) ->
    {ok, Datagram} = socket:recv(Socket),
    Lines = string:lexemes(Datagram, "\n\r"),
    io:format("manager:   ~ts~n", [lists:join(" | ", Lines)]),
    print_loop(Socket).
