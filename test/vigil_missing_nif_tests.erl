%% A release packaged without priv/vigil_nif.so: the module still loads, the application still
%% starts (so the release boots), calls behave as with no manager, and the error log names the
%% missing file. Run on a peer node whose only copy of vigil has an ebin and no priv.
-module(vigil_missing_nif_tests).

-include_lib("eunit/include/eunit.hrl").

missing_nif_boots_and_says_why_test_() ->
    {timeout, 60, fun missing_nif_boots_and_says_why/0}.

missing_nif_boots_and_says_why() ->
    Tmp = tmp_dir(),
    Ebin = filename:join([Tmp, "lib", "vigil-0.1.0", "ebin"]),
    copy_ebin(filename:dirname(code:which(vigil)), Ebin),
    R = vigil_test_receiver:open(path),
    Log = filename:join(Tmp, "log"),
    {ok, Peer, _} =
        peer:start(#{connection => standard_io, args => ["-pa", Ebin],
                     env => [{"NOTIFY_SOCKET", binary_to_list(vigil_test_receiver:address(R))}]}),
    try
        ok = peer:call(Peer, logger, add_handler,
                       [missing_nif, logger_std_h, #{config => #{file => Log}}]),
        ?assertMatch({module, vigil_nif}, peer:call(Peer, code, ensure_loaded, [vigil_nif])),
        ?assertMatch({ok, _}, peer:call(Peer, application, ensure_all_started, [vigil])),
        {File, _Why} = peer:call(Peer, vigil_nif, load_error, []),
        ?assertEqual(filename:join([Tmp, "lib", "vigil-0.1.0", "priv", "vigil_nif.so"]), File),
        ?assertEqual(false, peer:call(Peer, vigil, enabled, [])),
        ?assertEqual(ok, peer:call(Peer, vigil, ready, [])),
        ?assertEqual(ok, peer:call(Peer, vigil, status, ["up"])),
        ?assertEqual([], vigil_test_receiver:recv_all(R)),
        ok = peer:call(Peer, logger_std_h, filesync, [missing_nif]),
        {ok, Text} = file:read_file(Log),
        ?assertMatch({_, _}, binary:match(Text, <<" error: ">>)),
        ?assertMatch({_, _}, binary:match(Text, list_to_binary(File))),
        ?assertMatch({_, _}, binary:match(Text, <<"although NOTIFY_SOCKET=">>))
    after
        peer:stop(Peer),
        vigil_test_receiver:close(R)
    end.

copy_ebin(From, To) ->
    ok = filelib:ensure_dir(filename:join(To, "x")),
    {ok, Names} = file:list_dir(From),
    [{ok, _} = file:copy(filename:join(From, N), filename:join(To, N))
     || N <- Names, lists:member(filename:extension(N), [".beam", ".app"])],
    ok.

tmp_dir() ->
    Dir = filename:join("/tmp", "vigil-missing-nif-" ++ os:getpid() ++ "-"
                        ++ integer_to_list(erlang:unique_integer([positive]))),
    ok = file:make_dir(Dir),
    Dir.
