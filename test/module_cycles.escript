#!/usr/bin/env escript
%% module_cycles.escript EBIN: fails when the modules in EBIN call each other in a cycle. Internal
%% modules call the policy modules, never the facade `vigil', so there are none.
main([Ebin]) ->
    {ok, _} = xref:start(?MODULE),
    xref:set_default(?MODULE, [{warnings, false}]),
    {ok, _} = xref:add_directory(?MODULE, Ebin),
    {ok, Edges} = xref:q(?MODULE, "strict(ME || AM)"),
    G = digraph:new(),
    [begin digraph:add_vertex(G, A), digraph:add_vertex(G, B), digraph:add_edge(G, A, B) end
     || {A, B} <- Edges],
    case [C || C <- digraph_utils:strong_components(G), length(C) > 1] of
        [] when Edges =:= [] ->
            io:format(standard_error, "module cycles: no calls found in ~ts~n", [Ebin]),
            halt(1);
        [] ->
            io:format("module cycles: none among ~b modules~n", [length(digraph:vertices(G))]);
        Cycles ->
            io:format(standard_error, "module cycles: ~p~n", [Cycles]),
            halt(1)
    end.
