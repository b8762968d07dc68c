%% @private
%% @doc vigil's own supervisor: the delivery of queued messages (vigil_delivery), the end of
%% boot (vigil_boot) and the watchdog (vigil_watchdog), each restarted on its own.
-module(vigil_sup).
-behaviour(supervisor).

-export([start_link/0, init/1]).

-spec start_link() -> {ok, pid()} | {error, term()}.
start_link() ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, []).

-spec init([]) -> {ok, {supervisor:sup_flags(), [supervisor:child_spec()]}}.
init([]) ->
    Delivery = #{id => vigil_delivery, start => {vigil_delivery, start_link, []}},
    Boot = #{id => vigil_boot, start => {vigil_boot, start_link, []}},
    Watchdog = #{id => vigil_watchdog, start => {vigil_watchdog, start_link, []}},
    %% Only when the manager asked for it (MEMORY_PRESSURE_WATCH); transient: a watch that
    %% fails says so and ends.
    Pressure = [#{id => vigil_pressure, start => {vigil_pressure, start_link, []},
                  restart => transient} || vigil_pressure:wanted()],
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10},
          [Delivery, Boot, Watchdog | Pressure]}}.
