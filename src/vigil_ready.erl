%% @private
%% @doc The child that sends READY=1 when its supervisor reaches it.
%%
%% It is a start function, not a process: it sends READY=1 (with the STATUS given, in the same
%% datagram) and returns `ignore'. The supervisor keeps the child (restart `permanent'), so a
%% restart of the children before it (`rest_for_one', `one_for_all') runs it again: READY=1 from
%% a running service changes nothing for the manager, and the status line replaces whatever a
%% crash had left there.
-module(vigil_ready).

-export([child_spec/1, start_link/1]).

-include_lib("kernel/include/logger.hrl").

-spec child_spec(map() | [{atom(), term()}]) -> supervisor:child_spec().
child_spec(Options) ->
    Opts = vigil_options:to_map(Options, [status, id]),
    Status = vigil_options:text(Opts, status),
    #{id => maps:get(id, Opts, vigil_ready),
      start => {?MODULE, start_link, [Status]},
      restart => permanent,
      type => worker}.

-spec start_link(binary() | undefined) -> ignore.
start_link(Status) ->
    Pairs = [{<<"READY">>, <<"1">>} | [{<<"STATUS">>, {text, Status}} || Status =/= undefined]],
    case vigil_delivery:deliver(Pairs) of
        ok ->
            ok;
        {error, timeout} ->
            ?LOG_WARNING("vigil: the manager's queue is full; READY=1 waits in vigil's queue");
        {error, Reason} ->
            ?LOG_WARNING("vigil: READY=1 could not be sent: ~0tp", [Reason])
    end,
    ignore.
