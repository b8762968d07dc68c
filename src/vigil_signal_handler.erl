%% @private
%% @doc The erl_signal_server handler that turns SIGHUP into a reload (vigil_reload:run/1).
%%
%% The reload runs in a process of its own so that signal handling never waits for it.
-module(vigil_signal_handler).
-behaviour(gen_event).

-export([init/1, handle_event/2, handle_call/2, handle_info/2, terminate/2]).

-include_lib("kernel/include/logger.hrl").

-record(state, {reload :: vigil_reload:reload_fun(), running :: undefined | reference(),
                again = false :: boolean()}).

-spec init(vigil_reload:reload_fun()) -> {ok, #state{}}.
init(Reload) ->
    {ok, #state{reload = Reload}}.

-spec handle_event(term(), #state{}) -> {ok, #state{}}.
handle_event(sighup, #state{running = undefined} = State) ->
    {ok, start(State)};
handle_event(sighup, State) ->
    {ok, State#state{again = true}};
handle_event(_Signal, State) ->
    {ok, State}.

-spec handle_call(term(), #state{}) -> {ok, ok, #state{}}.
handle_call(_Request, State) ->
    {ok, ok, State}.

-spec handle_info(term(), #state{}) -> {ok, #state{}}.
handle_info({'DOWN', Ref, process, _, _}, #state{running = Ref, again = true} = State) ->
    {ok, start(State#state{again = false})};
handle_info({'DOWN', Ref, process, _, _}, #state{running = Ref} = State) ->
    {ok, State#state{running = undefined}};
handle_info(_Msg, State) ->
    {ok, State}.

-spec terminate(term(), #state{}) -> ok.
terminate(_Reason, _State) ->
    ok.

start(#state{reload = Reload} = State) ->
    {_, Ref} = spawn_monitor(fun() -> reload(Reload) end),
    State#state{running = Ref}.

reload(Reload) ->
    case vigil_reload:run(Reload) of
        ok -> ok;
        {error, Reason} -> ?LOG_ERROR("vigil: reload on SIGHUP failed: ~0tp", [Reason])
    end.
