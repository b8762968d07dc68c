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

-on_load(init/0).
-nifs([configure/1, reset/0, enabled/0, send/1, send_latest/1, status/1, flush_latest/0,
       barrier_start/1, writable_select/1, select_stop/1, journal_open/2, journal_send/2]).

-define(LOAD_ERROR, {?MODULE, load_error}).

-type value() :: binary() | integer() | monotonic | {text, iodata()}.
-type pairs() :: [{atom() | iodata(), value()}].
%% A descriptor watched with enif_select: a barrier, or the socket's writability.
-type watch() :: reference().
%% An open socket to journald (vigil_journal.h), closed when no term refers to it.
-type journal() :: reference().
-export_type([pairs/0, value/0, watch/0, journal/0]).

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
