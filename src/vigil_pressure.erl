%% @private
%% @doc The memory pressure watch: systemd's MEMORY_PRESSURE_WATCH and MEMORY_PRESSURE_WRITE
%% (systemd 254 and later, `MemoryPressureWatch='), watched by the NIF's thread
%% (c_src/nif/vigil_nif_pressure.c), told to the subscribers as
%% `{vigil, memory_pressure, Info}', and answered with the configured action.
%%
%% One policy, here: events closer together than `memory_pressure_interval' milliseconds are
%% folded into one, sent when the interval is over (`events' counts them), so neither a burst
%% of events nor a chatty socket peer floods the subscribers or the log. Each notice is logged
%% once, at notice level, with what the action freed.
%%
%% Started by vigil_sup only when MEMORY_PRESSURE_WATCH is set. A value that cannot be used
%% (a path that cannot be opened, a trigger the kernel refuses, MEMORY_PRESSURE_WRITE that is
%% not base64) logs one warning and leaves the feature off (`ignore'); so does a watch that
%% fails later (the process then ends normally, and is transient).
-module(vigil_pressure).
-behaviour(gen_server).

-export([wanted/0, start_link/0, subscribe/1, unsubscribe/1, collect_largest/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-include_lib("kernel/include/logger.hrl").

-type info() :: #{events := pos_integer(), path := binary(),
                  action := none | #{collected := non_neg_integer(), freed := non_neg_integer(),
                                     before := non_neg_integer(), 'after' := non_neg_integer()}}.
-export_type([info/0]).

%% @doc Whether the manager asked for a watch: MEMORY_PRESSURE_WATCH is set.
-spec wanted() -> boolean().
wanted() ->
    maps:get(watch, vigil_env:memory_pressure()) =/= undefined.

-spec start_link() -> {ok, pid()} | ignore | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% @doc Send Pid `{vigil, memory_pressure, Info}' at each (rate-limited) event. ok also when
%% nothing is watched: no event will come.
-spec subscribe(pid()) -> ok.
subscribe(Pid) ->
    call({subscribe, Pid}).

-spec unsubscribe(pid()) -> ok.
unsubscribe(Pid) ->
    call({unsubscribe, Pid}).

call(Request) ->
    try gen_server:call(?MODULE, Request)
    catch exit:{noproc, _} -> ok
    end.

%% @doc The default action: garbage-collect the N processes that use the most memory (this one
%% left out). Returns how many, and the VM's total memory before and after.
-spec collect_largest(pos_integer()) -> #{collected := non_neg_integer(),
                                          freed := non_neg_integer(),
                                          before := non_neg_integer(),
                                          'after' := non_neg_integer()}.
collect_largest(N) ->
    Before = erlang:memory(total),
    Sized = [{Bytes, Pid} || Pid <- processes(), Pid =/= self(),
                             {memory, Bytes} <- [erlang:process_info(Pid, memory)]],
    Largest = lists:sublist(lists:reverse(lists:sort(Sized)), N),
    Collected = [Pid || {_, Pid} <- Largest, erlang:garbage_collect(Pid)],
    After = erlang:memory(total),
    #{collected => length(Collected), freed => max(0, Before - After), before => Before,
      'after' => After}.

%% ---- gen_server ----

-spec init([]) -> {ok, map()} | ignore.
init([]) ->
    #{watch := Path, write := Write} = vigil_env:memory_pressure(),
    Ref = make_ref(),
    case vigil_nif:pressure_open(Path, Write, Ref) of
        {ok, Watch} ->
            ?LOG_NOTICE("vigil: watching memory pressure at ~ts", [Path]),
            {ok, #{watch => Watch, ref => Ref, path => Path, subscribers => #{},
                   last => undefined, pending => 0, timer => undefined,
                   action => vigil_config:get(memory_pressure_action),
                   interval => vigil_config:get(memory_pressure_interval)}};
        ok ->
            ?LOG_INFO("vigil: MEMORY_PRESSURE_WATCH=/dev/null: the manager turned the memory "
                      "pressure watch off"),
            ignore;
        {error, Reason} ->
            ?LOG_WARNING("vigil: memory pressure is not watched: MEMORY_PRESSURE_WATCH=~ts ~ts",
                         [Path, why(Reason)]),
            ignore
    end.

why({invalid, Key}) -> io_lib:format("with ~ts that is not base64", [Key]);
why(Posix) -> io_lib:format("cannot be used (~ts)", [inet:format_error(Posix)]).

-spec handle_call(term(), gen_server:from(), map()) -> {reply, ok, map()}.
handle_call({subscribe, Pid}, _From, #{subscribers := Subs} = State) ->
    case Subs of
        #{Pid := _} -> {reply, ok, State};
        _ -> {reply, ok, State#{subscribers := Subs#{Pid => monitor(process, Pid)}}}
    end;
handle_call({unsubscribe, Pid}, _From, #{subscribers := Subs} = State) ->
    case maps:take(Pid, Subs) of
        {Mon, Rest} ->
            demonitor(Mon, [flush]),
            {reply, ok, State#{subscribers := Rest}};
        error ->
            {reply, ok, State}
    end.

-spec handle_cast(term(), map()) -> {noreply, map()}.
handle_cast(_Msg, State) ->
    {noreply, State}.

-spec handle_info(term(), map()) -> {noreply, map()} | {stop, normal, map()}.
handle_info({vigil_pressure, Ref, pressure}, #{ref := Ref} = State) ->
    {noreply, event(State)};
handle_info({vigil_pressure, Ref, {error, Posix}}, #{ref := Ref, path := Path} = State) ->
    ?LOG_WARNING("vigil: the memory pressure watch at ~ts failed (~ts); no longer watching",
                 [Path, inet:format_error(Posix)]),
    {stop, normal, State};
handle_info({timeout, Timer, flush}, #{timer := Timer} = State) ->
    {noreply, notify(State#{timer := undefined})};
handle_info({'DOWN', Mon, process, Pid, _}, #{subscribers := Subs} = State) ->
    case Subs of
        #{Pid := Mon} -> {noreply, State#{subscribers := maps:remove(Pid, Subs)}};
        _ -> {noreply, State}
    end;
handle_info(_Msg, State) ->
    {noreply, State}.

-spec terminate(term(), map()) -> ok.
terminate(_Reason, #{watch := Watch}) ->
    %% After an upgrade of the NIF to another file the watch is the old library's (badarg
    %% here): it stops when the last reference to it goes, with this process.
    try vigil_nif:pressure_close(Watch)
    catch error:badarg -> ok
    end.

%% ---- the rate limit and the notice ----

%% An event is told now when the last notice is older than the interval, else once the
%% interval is over, together with the others that come meanwhile.
event(#{pending := Pending, timer := undefined, last := Last, interval := Interval} = State) ->
    Now = erlang:monotonic_time(millisecond),
    case Last =:= undefined orelse Now - Last >= Interval of
        true ->
            notify(State#{pending := Pending + 1});
        false ->
            Timer = erlang:start_timer(Last + Interval - Now, self(), flush),
            State#{pending := Pending + 1, timer := Timer}
    end;
event(#{pending := Pending} = State) ->
    State#{pending := Pending + 1}.

notify(#{pending := Events, path := Path, action := Action, subscribers := Subs} = State) ->
    Done = act(Action),
    log(Events, Path, Done),
    Info = #{events => Events, path => Path, action => Done},
    _ = [Pid ! {vigil, memory_pressure, Info} || Pid <- maps:keys(Subs)],
    State#{pending := 0, last := erlang:monotonic_time(millisecond)}.

act(none) -> none;
act({gc, N}) -> collect_largest(N).

log(Events, Path, none) ->
    ?LOG_NOTICE("vigil: memory pressure (~ts, ~b event(s)); no action configured",
                [Path, Events]);
log(Events, Path, #{collected := N, freed := Freed, before := Before, 'after' := After}) ->
    ?LOG_NOTICE("vigil: memory pressure (~ts, ~b event(s)): garbage-collected the ~b largest "
                "processes, freed ~ts (the VM's memory ~ts -> ~ts)",
                [Path, Events, N, mib(Freed), mib(Before), mib(After)]).

mib(Bytes) ->
    io_lib:format("~.1f MiB", [Bytes / 1048576]).
