%% The modules of the application call each other without cycles, and none calls the facade
%% `vigil', which only delegates.
-module(vigil_modules_tests).

-include_lib("eunit/include/eunit.hrl").

calls() ->
    _ = application:load(vigil),
    %% The Erlang modules: the Elixir ones (a mix build in the same directory) are facades.
    {ok, All} = application:get_key(vigil, modules),
    Modules = [M || M <- All, not lists:prefix("Elixir.", atom_to_list(M))],
    Xref = list_to_atom("vigil_modules_" ++ integer_to_list(erlang:unique_integer([positive]))),
    {ok, _} = xref:start(Xref, [{xref_mode, modules}]),
    try
        _ = [{ok, _} = xref:add_module(Xref, code:which(M), [{warnings, false}])
             || M <- Modules],
        {ok, Edges} = xref:q(Xref, "ME || AM"),
        {Modules, [{A, B} || {A, B} <- Edges, A =/= B, lists:member(B, Modules)]}
    after
        xref:stop(Xref)
    end.

no_cycles_test() ->
    {Modules, Calls} = calls(),
    G = digraph:new(),
    try
        _ = [digraph:add_vertex(G, M) || M <- Modules],
        _ = [digraph:add_edge(G, A, B) || {A, B} <- Calls],
        ?assertEqual([], [C || C <- digraph_utils:strong_components(G), length(C) > 1])
    after
        digraph:delete(G)
    end.

facade_not_called_test() ->
    {_Modules, Calls} = calls(),
    ?assertEqual([], [A || {A, vigil} <- Calls]).
