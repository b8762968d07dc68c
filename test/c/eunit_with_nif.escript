#!/usr/bin/env escript
%% eunit_with_nif.escript APPDIR TESTDIR: the EUnit suite, as rebar3 eunit runs it (every module
%% of the application, then the modules of TESTDIR that are no module's companion _tests), with
%% the application at APPDIR: APPDIR/ebin and the vigil_nif.so of APPDIR/priv, which this script
%% checks is the library the VM mapped.
-mode(compile).

main([AppDir, TestDir]) ->
    Ebin = filename:join(AppDir, "ebin"),
    true = code:add_patha(Ebin),
    true = code:add_patha(TestDir),
    Nif = filename:join([AppDir, "priv", "vigil_nif.so"]),
    {module, vigil_nif} = code:ensure_loaded(vigil_nif),
    expect("vigil_nif:load_error()", undefined, vigil_nif:load_error()),
    expect(Nif ++ " mapped", true, mapped(Nif)),
    App = modules(Ebin),
    Tests = [M || M <- modules(TestDir), not lists:member(companion_of(M), App)],
    case eunit:test([{application, vigil} | Tests], [verbose]) of
        ok -> expect(Nif ++ " still mapped", true, mapped(Nif));
        error -> halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: eunit_with_nif.escript APPDIR TESTDIR~n", []),
    halt(2).

modules(Dir) ->
    [list_to_atom(filename:basename(F, ".beam")) || F <- filelib:wildcard(Dir ++ "/*.beam")].

companion_of(Module) ->
    Name = atom_to_list(Module),
    case lists:suffix("_tests", Name) of
        true -> list_to_atom(lists:sublist(Name, length(Name) - length("_tests")));
        false -> undefined
    end.

expect(_What, Want, Want) -> ok;
expect(What, Want, Got) ->
    io:format(standard_error, "eunit_with_nif: ~s: expected ~0p, got ~0p~n", [What, Want, Got]),
    halt(1).

mapped(File) ->
    {ok, Maps} = file:read_file("/proc/self/maps"),
    binary:match(Maps, list_to_binary(File)) =/= nomatch.
