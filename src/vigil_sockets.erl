%% @private
%% @doc Socket activation and the file descriptor store: the logic behind vigil:listen_fds/0,
%% listen_options/1, store_fds/1,2 and remove_fds/1,2, documented there.
%%
%% The descriptors systemd passed are claimed once, when the application starts (claim/0): the
%% variables vigil_env took are checked as sd_listen_fds_with_names(3) checks them, FD_CLOEXEC is
%% set on each descriptor, and the list is kept in persistent_term. vigil keeps these descriptors
%% open for as long as the VM runs, as systemd keeps its own copies: listen_options/1 hands out a
%% duplicate that the listener owns, so that a listener that closes (a restart in place, a
%% listener restarted by its supervisor after a new listen_options/1) can be opened again.
%%
%% Messages to the fd store go through vigil_delivery, the one policy for sending.
-module(vigil_sockets).

-export([claim/0, listen_fds/0, listen_options/1, store_fds/2, remove_fds/2, fd_of/1]).

-include_lib("kernel/include/logger.hrl").

-define(KEY, {vigil, listen_fds}).
%% Where a listening socket's own accept queue limit cannot be read, and neither can
%% net.core.somaxconn: Linux's SOMAXCONN since 5.4, which systemd's default Backlog= comes to.
%% Asking for the kernel's cap never shrinks the queue: every listen() is capped by it.
-define(SOMAXCONN, 4096).
-define(SOMAXCONN_FILE, "/proc/sys/net/core/somaxconn").

-type listen_fd() :: #{name := binary(),
                       fd := non_neg_integer(),
                       family := inet | inet6 | local | atom() | integer() | undefined,
                       type := stream | dgram | seqpacket | atom() | integer() | undefined,
                       listening := boolean(),
                       port => inet:port_number(),
                       addr => inet:ip_address(),
                       path => binary(),
                       backlog => non_neg_integer()}.
-type listen_error() :: {error, {bad_listen_env, inet:posix()}}.
-type listen_option() :: {tcp_module, inet_tcp | inet6_tcp | local_tcp}
                       | {udp_module, inet_udp | inet6_udp | local_udp}
                       | {fd, non_neg_integer()} | {backlog, non_neg_integer()}.
-type fd_source() :: non_neg_integer() | gen_tcp:socket() | gen_udp:socket() | socket:socket().
-type store_error() :: {error, {invalid_name, term()} | timeout | inet:posix()
                        | {invalid, term()}}.
%% A map or a property list (an Elixir keyword list).
-type options() :: #{atom() => term()} | [{atom(), term()}].
-export_type([listen_fd/0, listen_error/0, listen_option/0, fd_source/0, store_error/0,
              options/0]).

%% ---- socket activation ----

%% @doc Claim the descriptors passed to this process (at application start). A malformed
%% environment is logged; listen_fds/0 and listen_options/1 then return the error.
-spec claim() -> ok.
claim() ->
    #{pid := Pid, pidfdid := PidFdId, fds := Fds, fdnames := Names} = Env = vigil_env:listen(),
    Result = case vigil_nif:listen_fds(Pid, PidFdId, Fds, Names) of
                 {ok, Passed} ->
                     {ok, Passed};
                 {error, Posix} ->
                     ?LOG_ERROR("vigil: socket activation: ~ts; no socket is taken (~p)",
                                [explain(Posix, Env), Posix]),
                     {error, {bad_listen_env, Posix}}
             end,
    persistent_term:put(?KEY, Result).

explain(ebadf, #{fds := Fds}) ->
    ["LISTEN_FDS=", Fds, " counts a descriptor that is not open in this process"];
explain(_Posix, Env) ->
    ["the variables are malformed (", variables(Env), "): each number must be decimal, "
     "LISTEN_FDS at least 1 and equal to the number of ':'-separated LISTEN_FDNAMES"].

variables(Env) ->
    Set = [[Name, "=", Value] || {Name, Key} <- [{"LISTEN_PID", pid}, {"LISTEN_PIDFDID", pidfdid},
                                                 {"LISTEN_FDS", fds},
                                                 {"LISTEN_FDNAMES", fdnames}],
                                 Value <- [maps:get(Key, Env)], Value =/= undefined],
    lists:join(", ", Set).

passed() ->
    persistent_term:get(?KEY, {ok, []}).

%% @doc The descriptors passed, described now.
-spec listen_fds() -> [listen_fd()] | listen_error().
listen_fds() ->
    case passed() of
        {ok, Passed} -> [describe(Fd, Name) || {Fd, Name} <- Passed];
        {error, _} = Error -> Error
    end.

describe(Fd, Name) ->
    Info = case vigil_nif:describe_fd(Fd) of
               {ok, Described} -> maps:remove(socket, Described);
               {error, _} -> #{family => undefined, type => undefined, listening => false}
           end,
    Info#{name => Name, fd => Fd}.

%% @doc Options for gen_tcp:listen(0, Opts) (or gen_udp:open(0, Opts)) on a duplicate of the
%% first descriptor passed with this name, or of the descriptor given.
-spec listen_options(binary() | non_neg_integer()) ->
          {ok, [listen_option()]}
          | {error, not_found | not_a_socket | inet:posix() | {bad_listen_env, inet:posix()}}.
listen_options(NameOrFd) ->
    case passed() of
        {ok, Passed} ->
            case [Fd || {Fd, Name} <- Passed, Fd =:= NameOrFd orelse Name =:= NameOrFd] of
                [Fd | _] -> options(Fd);
                [] -> {error, not_found}
            end;
        {error, _} = Error ->
            Error
    end.

options(Fd) ->
    case vigil_nif:describe_fd(Fd) of
        {ok, Info} ->
            case family_option(Info) of
                undefined -> {error, not_a_socket};
                Family -> with_copy(Fd, Family, Info)
            end;
        {error, _} = Error ->
            Error
    end.

with_copy(Fd, Family, Info) ->
    case vigil_nif:dup_fd(Fd) of
        {ok, Copy} -> {ok, Family ++ [{fd, Copy} | backlog(Info)]};
        {error, _} = Error -> Error
    end.

%% The family, as the callback module: the 2-tuple form of `inet6' (or `inet', `local'), which
%% keyword lists take (Elixir's Keyword functions, Thousand Island before 1.3.5) and Ranch passes
%% on (it drops a bare `local'). gen_tcp on an IPv6 socket without it fails with einval.
family_option(#{family := Family, type := Type}) ->
    Modules = #{inet => {inet_tcp, inet_udp}, inet6 => {inet6_tcp, inet6_udp},
                local => {local_tcp, local_udp}},
    case {maps:find(Family, Modules), Type} of
        {{ok, {Tcp, _}}, stream} -> [{tcp_module, Tcp}];
        {{ok, {_, Udp}}, dgram} -> [{udp_module, Udp}];
        {{ok, _}, _} -> [];
        {error, _} -> undefined
    end.

%% gen_tcp:listen/2 calls listen() again on the socket, with ?LISTEN_BACKLOG (5) unless told:
%% the socket is shared with systemd, whose queue would shrink with it.
backlog(#{listening := true} = Info) -> [{backlog, maps:get(backlog, Info, somaxconn())}];
backlog(_) -> [].

somaxconn() ->
    case file:read_file(?SOMAXCONN_FILE) of
        {ok, Text} ->
            try binary_to_integer(string:trim(Text))
            catch error:badarg -> ?SOMAXCONN
            end;
        {error, _} ->
            ?SOMAXCONN
    end.

%% ---- the file descriptor store ----

%% @doc FDSTORE=1 with FDNAME=Name, one message per name with every descriptor of that name,
%% then a barrier. Every name and descriptor is checked before anything is sent. Options: `poll'
%% (false sends FDPOLL=0), `timeout' (default `send_deadline').
-spec store_fds([{binary() | string(), fd_source()}], options()) ->
          ok | store_error().
store_fds(Entries, Options) when is_list(Entries) ->
    #{poll := Poll, timeout := Timeout} = store_options(Options, [poll, timeout]),
    case collect(Entries, []) of
        {ok, Groups} ->
            NoPoll = [{<<"FDPOLL">>, <<"0">>} || not Poll],
            vigil_delivery:send_fds([{[{<<"FDSTORE">>, <<"1">>}, {<<"FDNAME">>, Name} | NoPoll],
                                      Fds} || {Name, Fds} <- Groups], Timeout);
        {error, _} = Error ->
            Error
    end;
store_fds(_, _) ->
    error(badarg).

%% @doc FDSTOREREMOVE=1 with FDNAME=Name, then a barrier. Options: `timeout'.
-spec remove_fds(binary() | string(), options()) -> ok | store_error().
remove_fds(Name, Options) ->
    #{timeout := Timeout} = store_options(Options, [timeout]),
    case valid_name(Name) of
        {ok, Valid} ->
            vigil_delivery:send_fds([{[{<<"FDSTOREREMOVE">>, <<"1">>}, {<<"FDNAME">>, Valid}],
                                      []}], Timeout);
        {error, _} = Error ->
            Error
    end.

store_options(Options, Known) ->
    Opts = vigil_options:to_map(Options, Known),
    Poll = maps:get(poll, Opts, true),
    Timeout = maps:get(timeout, Opts, vigil_config:get(send_deadline)),
    case is_boolean(Poll) andalso is_timeout(Timeout) of
        true -> #{poll => Poll, timeout => Timeout};
        false -> error(badarg, [Options, Known])
    end.

is_timeout(infinity) -> true;
is_timeout(Ms) -> is_integer(Ms) andalso Ms >= 0.

%% Names in the order they first come, each with its descriptors in order.
collect([], Acc) ->
    {ok, lists:reverse([{Name, lists:reverse(Fds)} || {Name, Fds} <- Acc])};
collect([{Name, Source} | Rest], Acc) ->
    case {valid_name(Name), fd_of(Source)} of
        {{ok, Valid}, {ok, Fd}} ->
            collect(Rest, case lists:keyfind(Valid, 1, Acc) of
                              {Valid, Fds} -> lists:keyreplace(Valid, 1, Acc, {Valid, [Fd | Fds]});
                              false -> [{Valid, [Fd]} | Acc]
                          end);
        {{error, _} = Error, _} ->
            Error;
        {_, {error, _} = Error} ->
            Error
    end;
collect(_, _) ->
    error(badarg).

valid_name(Name) when is_binary(Name); is_list(Name) ->
    Binary = try unicode:characters_to_binary(Name)
             catch error:badarg -> error(badarg)
             end,
    case is_binary(Binary) andalso vigil_nif:fdname_valid(Binary) of
        true -> {ok, Binary};
        false -> {error, {invalid_name, Name}}
    end;
valid_name(_) ->
    error(badarg).

%% @doc The descriptor of a raw fd, a gen_tcp or gen_udp socket of either backend, or a `socket'
%% socket. Each backend has its own way (erlang/otp#4067 asks for one): inet's port gives it
%% through inet:getfd/1, the socket backend through the `fd' option, `socket' through
%% `{otp, fd}'. The socket keeps its descriptor; the manager receives a duplicate.
-spec fd_of(fd_source()) -> {ok, non_neg_integer()} | {error, ebadf}.
fd_of(Fd) when is_integer(Fd), Fd >= 0 ->
    {ok, Fd};
fd_of(Port) when is_port(Port) ->
    only_fd(inet:getfd(Port));
fd_of({'$inet', _, _} = Socket) ->
    case inet:getopts(Socket, [fd]) of
        {ok, [{fd, Fd}]} -> only_fd({ok, Fd});
        _ -> {error, ebadf}
    end;
fd_of({'$socket', _} = Socket) ->
    only_fd(socket:getopt(Socket, {otp, fd}));
fd_of(_) ->
    error(badarg).

%% A closed socket answers einval or closed: it has no descriptor.
only_fd({ok, Fd}) when is_integer(Fd), Fd >= 0 -> {ok, Fd};
only_fd(_) -> {error, ebadf}.
