%% @private
%% @doc The NIF. Its error rule is written at the top of c_src/nif/vigil_nif.c.
%%
%% When the library cannot be loaded (a release packaged without priv/vigil_nif.so, say), the
%% module still loads: its Erlang bodies below stand in for it and behave as when no manager
%% is there (nothing is sent, every call succeeds), and load_error/0 tells why. vigil_app logs it
%% at start. A release must not fail to boot because of how vigil was packaged.
-module(vigil_nif).

-export([load_error/0]).
-export([configure/1, reset/0, enabled/0, send/1, send_latest/1, status/1, flush_latest/0,
         barrier_start/1, writable_select/1, select_stop/1]).
-export([journal_open/2, journal_send/2]).
-export([listen_fds/4, describe_fd/1, dup_fd/1, fdname_valid/1, send_fds/2]).
-export([pressure_open/3, pressure_close/1]).

-on_load(init/0).
-nifs([configure/1, reset/0, enabled/0, send/1, send_latest/1, status/1, flush_latest/0,
       barrier_start/1, writable_select/1, select_stop/1, journal_open/2, journal_send/2,
       listen_fds/4, describe_fd/1, dup_fd/1, fdname_valid/1, send_fds/2, pressure_open/3,
       pressure_close/1]).

-define(LOAD_ERROR, {?MODULE, load_error}).

-type value() :: binary() | integer() | monotonic | {text, iodata()}.
-type pairs() :: [{atom() | iodata(), value()}].
%% A descriptor watched with enif_select: a barrier, or the socket's writability.
-type watch() :: reference().
%% An open socket to journald (vigil_journal.h), closed when no term refers to it.
-type journal() :: reference().
%% What describe_fd/1 tells of a descriptor (c_src/nif/vigil_nif_sockets.c).
-type fd_info() :: #{socket := boolean(),
                     family := inet | inet6 | local | atom() | integer() | undefined,
                     type := stream | dgram | seqpacket | atom() | integer() | undefined,
                     listening := boolean(),
                     port => inet:port_number(),
                     addr => inet:ip_address(),
                     path => binary(),
                     backlog => non_neg_integer()}.
%% A memory pressure watch: a thread of the NIF's polling MEMORY_PRESSURE_WATCH, stopped and
%% closed by pressure_close/1 or when no term refers to it.
-type pressure() :: reference().
-export_type([pairs/0, value/0, watch/0, journal/0, fd_info/0, pressure/0]).

%% A fresh load (first start, or after the module was purged) finds the manager's address where
%% the application left it. Always ok: a failed load leaves the stand-in bodies.
-spec init() -> ok.
init() ->
    Path = filename:join(priv_dir(), "vigil_nif"),
    case erlang:load_nif(Path, 0) of
        ok ->
            _ = persistent_term:erase(?LOAD_ERROR),
            restore_address();
        {error, {_Reason, Text}} ->
            persistent_term:put(?LOAD_ERROR, {Path ++ ".so", Text}),
            ok
    end.

%% @doc `undefined' when the library is loaded, else the file it was loaded from and why it
%% could not be.
-spec load_error() -> undefined | {file:filename(), string()}.
load_error() ->
    persistent_term:get(?LOAD_ERROR, undefined).

restore_address() ->
    case vigil_env:notify_socket() of
        undefined -> ok;
        Address -> _ = configure(Address), ok
    end.

priv_dir() ->
    case code:priv_dir(vigil) of
        {error, bad_name} ->
            filename:join(filename:dirname(filename:dirname(code:which(?MODULE))), "priv");
        Dir ->
            Dir
    end.

%% The bodies below run only without the library: as with no manager, nothing is sent. Each
%% passes its result through stand_in/1 so that dialyzer types the calls by the specs (the
%% library's results), not by these constant bodies.

-spec stand_in(term()) -> term().
stand_in(Result) ->
    binary_to_term(term_to_binary(Result)).

-spec configure(binary()) -> ok | {error, inet:posix()}.
configure(_Address) -> stand_in(ok).

-spec reset() -> ok.
reset() -> stand_in(ok).

-spec enabled() -> boolean().
enabled() -> stand_in(false).

-spec send(pairs()) -> ok | {error, inet:posix() | {invalid, term()}}.
send(_Pairs) -> stand_in(ok).

%% Latest-wins: on {error, eagain} the message stays pending in the NIF until flush_latest/0
%% sends it or a newer one replaces it (sent or refused in turn).
-spec send_latest(pairs()) -> ok | {error, inet:posix() | {invalid, term()}}.
send_latest(_Pairs) -> stand_in(ok).

-spec status(iodata()) -> ok | {error, inet:posix()}.
status(_Text) -> stand_in(ok).

-spec flush_latest() -> ok | {error, inet:posix()}.
flush_latest() -> stand_in(ok).

%% {ok, Watch}: {select, Watch, Ref, ready_input} comes once the manager has read every
%% earlier message. ok: no manager to wait for.
-spec barrier_start(reference()) -> ok | {ok, watch()} | {error, inet:posix()}.
barrier_start(_Ref) -> stand_in(ok).

%% {ok, Watch}: {select, Watch, Ref, ready_output} comes once the socket to the manager is
%% writable (its queue has room). ok: no socket to wait on.
-spec writable_select(reference()) -> ok | {ok, watch()} | {error, inet:posix()}.
writable_select(_Ref) -> stand_in(ok).

%% End a watch, whether or not its message came.
-spec select_stop(watch()) -> ok.
select_stop(_Watch) -> stand_in(ok).

%% A socket for the journal at Path ("@name" for an abstract name), its send buffer raised to
%% SendBuffer bytes where permitted. Without the library, or on the none platform, the journal is
%% closed: sends answer ok and send nothing.
-spec journal_open(binary(), non_neg_integer()) -> {ok, journal()} | {error, inet:posix()}.
journal_open(_Path, _SendBuffer) -> stand_in({ok, make_ref()}).

%% One entry, never blocking: {error, eagain} when journald's queue is full, emsgsize over
%% 16 MiB, e2big over 1024 fields, enoent or econnrefused when no journald listens.
-spec journal_send(journal(), [{atom() | iodata(), iodata()}]) ->
          ok | {error, inet:posix() | {invalid, term()}}.
journal_send(_Journal, _Fields) -> stand_in(ok).

%% Socket activation: the values of LISTEN_PID, LISTEN_PIDFDID, LISTEN_FDS and LISTEN_FDNAMES
%% (undefined when unset) checked as sd_listen_fds_with_names() checks them, FD_CLOEXEC set on
%% each descriptor passed, and their names. [] when none was passed to this process; einval when
%% the variables are malformed, ebadf when a descriptor they count is not open. Without the
%% library nothing is claimed.
-spec listen_fds(Var, Var, Var, Var) -> {ok, [{non_neg_integer(), binary()}]} | {error, inet:posix()}
              when Var :: binary() | undefined.
listen_fds(_Pid, _PidFdId, _Fds, _FdNames) -> stand_in({ok, []}).

%% What a descriptor is. Without the library: enotsup.
-spec describe_fd(non_neg_integer()) -> {ok, fd_info()} | {error, inet:posix()}.
describe_fd(_Fd) -> stand_in({error, enotsup}).

%% A close-on-exec duplicate, which the caller owns. Without the library: enotsup.
-spec dup_fd(non_neg_integer()) -> {ok, non_neg_integer()} | {error, inet:posix()}.
dup_fd(_Fd) -> stand_in({error, enotsup}).

%% Whether the fd store takes Name under FDNAME= (c_src/core/vigil_listen.h). Without the
%% library, as with no manager, every name passes: nothing is sent.
-spec fdname_valid(binary()) -> boolean().
fdname_valid(_Name) -> stand_in(true).

%% One message with the descriptors passed along (SCM_RIGHTS); the manager gets duplicates.
%% e2big for more than 253 descriptors, ebadf for one that is not open.
-spec send_fds(pairs(), [non_neg_integer()]) -> ok | {error, inet:posix() | {invalid, term()}}.
send_fds(_Pairs, _Fds) -> stand_in(ok).

%% The memory pressure watch (c_src/core/vigil_pressure.h): the values of MEMORY_PRESSURE_WATCH
%% and MEMORY_PRESSURE_WRITE (undefined when unset). On {ok, Pressure} the caller receives
%% {vigil_pressure, Ref, pressure} at each event, and {vigil_pressure, Ref, {error, Posix}} once
%% if the watch fails. ok: the path is /dev/null (the manager turned the watch off).
%% {invalid, <<"MEMORY_PRESSURE_WRITE">>}: not base64. Without the library: enotsup.
-spec pressure_open(binary(), binary() | undefined, reference()) ->
          ok | {ok, pressure()} | {error, inet:posix() | {invalid, binary()}}.
pressure_open(_Path, _Write, _Ref) -> stand_in({error, enotsup}).

%% Stop the watch; no event is sent after it returns (one already sent may be in the mailbox).
-spec pressure_close(pressure()) -> ok.
pressure_close(_Pressure) -> stand_in(ok).
