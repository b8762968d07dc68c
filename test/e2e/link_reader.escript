#!/usr/bin/env escript
%% test/e2e/link_reader.escript: reads a symlink in a tight loop, run inside the container while
%% releases are switched under it.
%%
%%   link_reader.escript LINK STOPFILE MAXSECONDS
%%
%% Reads LINK until STOPFILE exists (or MAXSECONDS have passed: the loop is bounded), then
%% prints one line:
%%
%%   reads N missing N incomplete N
%%
%% missing: LINK could not be read (no link there); incomplete: it led to a directory without
%% releases/start_erl.data (not a whole release). The stop file is looked at every 1000 reads.
-mode(compile).

main([Link, StopFile, MaxSeconds]) ->
    Deadline = erlang:monotonic_time(millisecond) + list_to_integer(MaxSeconds) * 1000,
    Base = filename:dirname(Link),
    {Reads, Missing, Incomplete} = loop(Link, Base, StopFile, Deadline, 0, 0, 0),
    io:format("reads ~b missing ~b incomplete ~b~n", [Reads, Missing, Incomplete]);
main(_) ->
    io:format(standard_error, "usage: link_reader.escript LINK STOPFILE MAXSECONDS~n", []),
    halt(2).

loop(Link, Base, StopFile, Deadline, Reads, Missing, Incomplete) when Reads rem 1000 =:= 0 ->
    case filelib:is_file(StopFile) orelse erlang:monotonic_time(millisecond) > Deadline of
        true -> {Reads, Missing, Incomplete};
        false -> read(Link, Base, StopFile, Deadline, Reads, Missing, Incomplete)
    end;
loop(Link, Base, StopFile, Deadline, Reads, Missing, Incomplete) ->
    read(Link, Base, StopFile, Deadline, Reads, Missing, Incomplete).

read(Link, Base, StopFile, Deadline, Reads, Missing, Incomplete) ->
    case file:read_link(Link) of
        {ok, Target} ->
            Whole = filelib:is_regular(filename:join([Base, Target, "releases", "start_erl.data"])),
            loop(Link, Base, StopFile, Deadline, Reads + 1, Missing, Incomplete + bad(Whole));
        {error, _} ->
            loop(Link, Base, StopFile, Deadline, Reads + 1, Missing + 1, Incomplete)
    end.

bad(true) -> 0;
bad(false) -> 1.
