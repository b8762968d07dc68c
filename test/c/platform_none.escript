#!/usr/bin/env escript
%% platform_none.escript APPDIR: the application as on a system without systemd. APPDIR holds
%% ebin/ and a priv/ whose vigil_nif.so was built with VIGIL_PLATFORM=none. NOTIFY_SOCKET and
%% WATCHDOG_USEC are set, and the address is a real AF_UNIX datagram receiver: the library
%% loads, every call answers ok, vigil:enabled() is false, and nothing reaches the receiver,
%% neither notifications nor watchdog pings.
-mode(compile).

main([AppDir]) ->
    true = code:add_patha(filename:join(AppDir, "ebin")),
    Dir = string:trim(os:cmd("mktemp -d")),
    Path = filename:join(Dir, "notify"),
    {ok, Receiver} = socket:open(local, dgram, default),
    ok = socket:bind(Receiver, #{family => local, path => Path}),
    true = os:putenv("NOTIFY_SOCKET", Path),
    true = os:putenv("WATCHDOG_USEC", "100000"),
    try
        run(AppDir, Receiver)
    after
        socket:close(Receiver),
        file:del_dir_r(Dir)
    end;
main(_) ->
    io:format(standard_error, "usage: platform_none.escript APPDIR~n", []),
    halt(2).

run(AppDir, Receiver) ->
    ok = logger:set_primary_config(level, warning),
    {ok, _} = application:ensure_all_started(vigil),
    Nif = filename:join([AppDir, "priv", "vigil_nif.so"]),
    expect("the NIF loaded", undefined, vigil_nif:load_error()),
    expect("the NIF is the one in APPDIR/priv", true, mapped(Nif)),
    expect("enabled", false, vigil:enabled()),
    expect("ready", ok, vigil:ready()),
    expect("status", ok, vigil:status("serving")),
    expect("watchdog ping", ok, vigil:watchdog(ping)),
    expect("mainpid", ok, vigil:mainpid(list_to_integer(os:getpid()))),
    expect("barrier", ok, vigil:barrier(1000)),
    {ok, Listen} = gen_tcp:listen(0, []),
    expect("store_fds", ok, vigil:store_fds([{"web", Listen}])),
    expect("listen_fds", [], vigil:listen_fds()),
    %% WATCHDOG_USEC=100000: a ping would be due every 50 ms.
    timer:sleep(500),
    expect("datagrams received", [], recv_all(Receiver)),
    Info = vigil:watchdog_info(),
    expect("the watchdog is idle", {false, 0}, {maps:get(active, Info), maps:get(pings, Info)}),
    io:format("platform none: ~s loaded, nothing sent; watchdog ~0p~n",
              [Nif, maps:with([active, pings, send_errors], Info)]),
    ok = application:stop(vigil).

expect(_What, Want, Want) -> ok;
expect(What, Want, Got) ->
    io:format(standard_error, "platform none: ~s: expected ~0p, got ~0p~n", [What, Want, Got]),
    halt(1).

recv_all(S) ->
    case socket:recv(S, 0, 0) of
        {ok, Data} -> [Data | recv_all(S)];
        {error, timeout} -> []
    end.

%% The library the VM mapped, which no load_error/0 could tell apart from another build.
mapped(File) ->
    {ok, Maps} = file:read_file("/proc/self/maps"),
    binary:match(Maps, list_to_binary(File)) =/= nomatch.
