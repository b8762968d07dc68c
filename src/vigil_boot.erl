%% @private
%% @doc The end of boot: READY=1 when nothing else has sent it, and the moment health checks
%% begin.
%%
%% The release has finished booting when init's own status is `started': every application of
%% the boot script has started (their start/2 returned, so every `Vigil.Ready' child in their
%% trees has run) and the `-s', `-run' and `-eval' commands have returned (`mix run' starts
%% the applications from one of these). init tells a subscriber when the boot script is done
%% (notify_when_started/1, which init answers at its `{progress, started}'); the commands that
%% follow are waited for by asking init:get_status/0, at most every ?POLL_MAX_MS. A node that
%% had booted before vigil started (the application started by hand) is taken as booted.
%%
%% READY=1 delivered by anyone counts, as long as it was sent or queued: vigil_delivery keeps
%% it, tells this process when it happens, and is asked again at the end of boot (so that a
%% READY=1 delivered just before is never missed). At the end of boot, with no READY=1 yet and
%% a manager listening: `ready => auto' sends it, with a status line saying so;
%% `ready => manual' logs a warning. The application is up at the first READY=1 or at the end
%% of boot, whichever comes first; watch_up/1 tells the watchdog, which runs the health checks
%% from then on and pings without them before.
-module(vigil_boot).
-behaviour(gen_server).

-export([start_link/0, watch_up/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-include_lib("kernel/include/logger.hrl").

-define(POLL_FIRST_MS, 10).
-define(POLL_MAX_MS, 200).
-define(AUTO_STATUS, <<"ready (READY=1 sent by vigil at the end of boot)">>).

-record(state, {
    booted = false :: boolean(),
    ready = false :: boolean(),
    %% The processes to tell when the application is up.
    watchers = [] :: [pid()],
    poll = ?POLL_FIRST_MS :: pos_integer()
}).

-spec start_link() -> {ok, pid()} | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% @doc Whether the application is up (READY=1 was sent or the boot is over); if not, `Pid'
%% gets `{vigil_boot, up}' when it is. False without the process.
-spec watch_up(pid()) -> boolean().
watch_up(Pid) ->
    try gen_server:call(?MODULE, {watch_up, Pid})
    catch exit:{noproc, _} -> false
    end.

-spec init([]) -> {ok, #state{}}.
init([]) ->
    State = #state{ready = vigil_delivery:watch_ready(self())},
    _ = case init:get_status() of
            {started, _} ->
                self() ! booted;
            {starting, started} ->
                poll(State);
            {starting, _} ->
                case init:notify_when_started(self()) of
                    started -> self() ! {init, started};
                    ok -> ok
                end;
            {stopping, _} ->
                ok
        end,
    {ok, State}.

-spec handle_call({watch_up, pid()}, gen_server:from(), #state{}) ->
    {reply, boolean(), #state{}}.
handle_call({watch_up, Pid}, _From, #state{watchers = Watchers} = State) ->
    case up(State) of
        true -> {reply, true, State};
        false -> {reply, false, State#state{watchers = [Pid | Watchers]}}
    end.

-spec handle_cast(term(), #state{}) -> {noreply, #state{}}.
handle_cast(_Msg, State) ->
    {noreply, State}.

-spec handle_info(term(), #state{}) -> {noreply, #state{}}.
handle_info({vigil_delivery, ready_sent}, State) ->
    {noreply, is_up(State#state{ready = true})};
handle_info({init, started}, State) ->
    %% The boot script is done; the command line's -s, -run and -eval may still run.
    {noreply, check(State)};
handle_info(poll, State) ->
    {noreply, check(State#state{poll = min(?POLL_MAX_MS, State#state.poll * 2)})};
handle_info(booted, #state{booted = false} = State) ->
    {noreply, booted(State)};
handle_info(_Stale, State) ->
    {noreply, State}.

up(#state{booted = Booted, ready = Ready}) ->
    Booted orelse Ready.

%% Tell the watchers, once.
is_up(#state{watchers = Watchers} = State) ->
    _ = [Pid ! {?MODULE, up} || Pid <- Watchers],
    State#state{watchers = []}.

check(#state{booted = true} = State) ->
    State;
check(State) ->
    case init:get_status() of
        {started, _} -> booted(State);
        {starting, _} -> poll(State);
        {stopping, _} -> State
    end.

poll(#state{poll = Ms} = State) ->
    erlang:send_after(Ms, self(), poll),
    State.

booted(#state{ready = true} = State) ->
    State#state{booted = true};
booted(State) ->
    case vigil_delivery:ready_delivered() of
        true -> ok;
        false -> end_of_boot(vigil_config:get(ready), vigil_nif:enabled())
    end,
    is_up(State#state{booted = true}).

%% No READY=1 by the end of boot.
end_of_boot(_Mode, false) ->
    ok;
end_of_boot(auto, true) ->
    case vigil_delivery:deliver([{<<"READY">>, <<"1">>}, {<<"STATUS">>, {text, ?AUTO_STATUS}}]) of
        ok -> ok;
        {error, timeout} -> ok;
        {error, Reason} -> ?LOG_WARNING("vigil: READY=1 could not be sent at the end of boot: "
                                        "~0tp", [Reason])
    end;
end_of_boot(manual, true) ->
    ?LOG_WARNING("vigil: the release has finished booting and READY=1 has not been sent "
                 "(ready: manual): the manager will time out after TimeoutStartSec= and stop "
                 "the service. Add a Vigil.Ready child (vigil:ready_spec/1) where start-up "
                 "ends, or call Vigil.ready/0 (vigil:ready/0).").
