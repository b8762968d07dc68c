%% @private
%% @doc The child that shows a status line while the children before it run: `up' when it
%% starts, `down' when its supervisor stops it (it traps exits, so it hears the shutdown and
%% runs terminate/2 before the children before it are stopped).
-module(vigil_status).
-behaviour(gen_server).

-export([child_spec/1, start_link/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-record(state, {up :: binary() | undefined, down :: binary() | undefined}).

-spec child_spec(map() | [{atom(), term()}]) -> supervisor:child_spec().
child_spec(Options) ->
    Opts = vigil_options:to_map(Options, [up, down, id]),
    #{id => maps:get(id, Opts, vigil_status),
      start => {?MODULE, start_link,
                [vigil_options:text(Opts, up), vigil_options:text(Opts, down)]},
      restart => permanent,
      shutdown => 5000,
      type => worker}.

-spec start_link(binary() | undefined, binary() | undefined) -> {ok, pid()}.
start_link(Up, Down) ->
    gen_server:start_link(?MODULE, {Up, Down}, []).

-spec init({binary() | undefined, binary() | undefined}) -> {ok, #state{}}.
init({Up, Down}) ->
    process_flag(trap_exit, true),
    send(Up),
    {ok, #state{up = Up, down = Down}}.

-spec handle_call(term(), gen_server:from(), #state{}) -> {reply, {error, unknown_call}, #state{}}.
handle_call(_Request, _From, State) ->
    {reply, {error, unknown_call}, State}.

-spec handle_cast(term(), #state{}) -> {noreply, #state{}}.
handle_cast(_Msg, State) ->
    {noreply, State}.

-spec handle_info(term(), #state{}) -> {noreply, #state{}}.
handle_info(_Msg, State) ->
    {noreply, State}.

-spec terminate(term(), #state{}) -> ok.
terminate(_Reason, #state{down = Down}) ->
    send(Down).

send(undefined) -> ok;
send(Text) -> _ = vigil_delivery:status(Text), ok.
