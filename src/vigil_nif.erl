%% @private
%% @doc The NIF. Its error rule is written at the top of c_src/nif/vigil_nif.c.
-module(vigil_nif).

-export([configure/1, reset/0, enabled/0, send/1, send_latest/1, status/1, flush_latest/0,
         drop_latest/0, barrier_start/1, barrier_close/1]).

-on_load(init/0).
-nifs([configure/1, reset/0, enabled/0, send/1, send_latest/1, status/1, flush_latest/0,
       drop_latest/0, barrier_start/1, barrier_close/1]).

-type value() :: binary() | integer() | monotonic | {text, iodata()}.
-type pairs() :: [{atom() | iodata(), value()}].
-type barrier() :: reference().
-export_type([pairs/0, value/0, barrier/0]).

%% A fresh load (first start, or after the module was purged) finds the manager's address where
%% the application left it.
-spec init() -> ok | {error, term()}.
init() ->
    Path = filename:join(priv_dir(), "vigil_nif"),
    case erlang:load_nif(Path, 0) of
        ok ->
            restore_address();
        {error, _} = Error ->
            Error
    end.

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

-spec configure(binary()) -> ok | {error, inet:posix()}.
configure(_Address) -> erlang:nif_error(not_loaded).

-spec reset() -> ok.
reset() -> erlang:nif_error(not_loaded).

-spec enabled() -> boolean().
enabled() -> erlang:nif_error(not_loaded).

-spec send(pairs()) -> ok | {error, inet:posix() | {invalid, term()}}.
send(_Pairs) -> erlang:nif_error(not_loaded).

%% Latest-wins: on {error, eagain} the message stays pending in the NIF until flush_latest/0
%% delivers it or a newer one replaces it.
-spec send_latest(pairs()) -> ok | {error, inet:posix() | {invalid, term()}}.
send_latest(_Pairs) -> erlang:nif_error(not_loaded).

-spec status(iodata()) -> ok | {error, inet:posix()}.
status(_Text) -> erlang:nif_error(not_loaded).

-spec flush_latest() -> ok | {error, inet:posix()}.
flush_latest() -> erlang:nif_error(not_loaded).

-spec drop_latest() -> ok.
drop_latest() -> erlang:nif_error(not_loaded).

-spec barrier_start(reference()) -> ok | {ok, barrier()} | {error, inet:posix()}.
barrier_start(_Ref) -> erlang:nif_error(not_loaded).

-spec barrier_close(barrier()) -> ok.
barrier_close(_Barrier) -> erlang:nif_error(not_loaded).
