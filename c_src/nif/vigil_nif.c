/* vigil_nif.c: the Erlang face of the notification core (module vigil_nif, private to vigil).
 *
 * Error rule: a term of the wrong type raises badarg; an operational failure returns
 * {error, Posix} with Posix the atom erl_errno_id() gives (eagain, econnrefused, ...); a
 * well-typed key or value that the manager would read back differently returns
 * {error, {invalid, Key}} with Key as the caller gave it. Nothing else.
 *
 * Every call is a few microseconds and never blocks: sends use MSG_DONTWAIT, and the barrier
 * and the wait for room in the manager's queue go through enif_select() instead of poll().
 * Which messages wait, and for how long, is decided in Erlang (vigil_delivery); this file only
 * offers the means: a send, a one-message latest-wins slot, and a wait for writability.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <erl_driver.h>
#include <erl_nif.h>

#include "vigil_nif.h"
#include "vigil_notify.h"

struct vigil_state {
    ErlNifMutex *lock; /* guards conn and latest: the socket may be replaced mid-send */
    struct vigil_conn conn;
    /* A latest-wins message that the full queue refused; a newer one that is sent, or refused
     * in turn, replaces it. */
    bool has_latest;
    struct vigil_msg latest;
    ErlNifResourceType *watch_type;
};

/* A descriptor watched with enif_select(), owned by the resource: a barrier's read end (it sees
 * POLLHUP once the manager has closed the write end we sent), or a duplicate of the socket to the
 * manager (writable once the manager's queue has room; a duplicate, so that the connection may
 * close or replace its own descriptor while the watch is in place). */
struct watch {
    int fd;
};

ERL_NIF_TERM atom_ok;
static ERL_NIF_TERM atom_error, atom_invalid, atom_true, atom_false, atom_text, atom_monotonic,
    atom_undefined;

static void init_atoms(ErlNifEnv *env)
{
    atom_ok = enif_make_atom(env, "ok");
    atom_error = enif_make_atom(env, "error");
    atom_invalid = enif_make_atom(env, "invalid");
    atom_true = enif_make_atom(env, "true");
    atom_false = enif_make_atom(env, "false");
    atom_text = enif_make_atom(env, "text");
    atom_monotonic = enif_make_atom(env, "monotonic");
    atom_undefined = enif_make_atom(env, "undefined");
    init_socket_atoms(env);
    init_pressure_atoms(env);
}

ERL_NIF_TERM make_posix_error(ErlNifEnv *env, int negative_errno)
{
    return enif_make_tuple2(env, atom_error, enif_make_atom(env, erl_errno_id(-negative_errno)));
}

static ERL_NIF_TERM make_invalid(ErlNifEnv *env, ERL_NIF_TERM key)
{
    return enif_make_tuple2(env, atom_error, enif_make_tuple2(env, atom_invalid, key));
}

/* ---- watch resource ---- */

static void watch_stop(ErlNifEnv *env, void *obj, ErlNifEvent event, int is_direct_call)
{
    struct watch *w = obj;
    (void)env, (void)is_direct_call;
    if (w->fd == (int)event) {
        close(w->fd);
        w->fd = -1;
    }
}

static void watch_dtor(ErlNifEnv *env, void *obj)
{
    struct watch *w = obj;
    (void)env;
    /* Only reached without a select in place: enif_select(STOP) closes it otherwise. */
    if (w->fd >= 0)
        close(w->fd);
}

/* The type keeps the name it had when it watched barriers only, so that an upgrade from that
 * version takes it over. */
static ErlNifResourceType *open_watch_type(ErlNifEnv *env, ErlNifResourceFlags flags)
{
    ErlNifResourceTypeInit init = {.dtor = watch_dtor, .stop = watch_stop};
    return enif_open_resource_type_x(env, "vigil_barrier", &init, flags, NULL);
}

/* Watches fd (now owned by the resource) for mode; the caller receives
 * {select, Watch, Ref, ready_input | ready_output}. Returns the term to give back. */
static ERL_NIF_TERM start_watch(ErlNifEnv *env, struct vigil_state *state, int fd,
                                enum ErlNifSelectFlags mode, ERL_NIF_TERM ref)
{
    struct watch *w = enif_alloc_resource(state->watch_type, sizeof(*w));
    if (!w) {
        close(fd);
        return make_posix_error(env, -ENOMEM);
    }
    w->fd = fd;
    ERL_NIF_TERM term = enif_make_resource(env, w);
    enif_release_resource(w);
    if (enif_select(env, (ErlNifEvent)fd, mode, w, NULL, ref) < 0)
        return make_posix_error(env, -EIO);
    return enif_make_tuple2(env, atom_ok, term);
}

/* ---- term decoding ---- */

bool get_key(ErlNifEnv *env, ERL_NIF_TERM term, char buf[MAX_ATOM_LEN + 1], struct bytes *ret_key)
{
    ErlNifBinary bin;
    int n = enif_get_atom(env, term, buf, MAX_ATOM_LEN + 1, ERL_NIF_LATIN1);

    if (n > 0) {
        *ret_key = (struct bytes){buf, (size_t)n - 1};
        return true;
    }
    if (!enif_inspect_iolist_as_binary(env, term, &bin))
        return false;
    *ret_key = (struct bytes){(const char *)bin.data, bin.size};
    return true;
}

ERL_NIF_TERM append_error(ErlNifEnv *env, int r, ERL_NIF_TERM key)
{
    if (r == BAD_TYPE)
        return enif_make_badarg(env);
    if (r == INVALID)
        return make_invalid(env, key);
    return make_posix_error(env, r);
}

/* The core's -EINVAL means the key or value; -EMSGSIZE stays an operational error. */
int classify(int r)
{
    return r == -EINVAL ? INVALID : r;
}

/* {text, IoData}: human text, rewritten to be shown as given. */
static int append_text_value(ErlNifEnv *env, struct vigil_msg *msg, struct bytes key,
                             const ERL_NIF_TERM *tuple)
{
    ErlNifBinary text;
    if (enif_compare(tuple[0], atom_text) != 0 ||
        !enif_inspect_iolist_as_binary(env, tuple[1], &text))
        return BAD_TYPE;
    return classify(
        vigil_msg_append_text(msg, key.data, key.len, (const char *)text.data, text.size));
}

/* A clock that cannot be read is an operational failure, not the caller's key: -errno. */
static int append_clock_value(struct vigil_msg *msg, struct bytes key)
{
    uint64_t usec = 0;
    int r = vigil_monotonic_usec(&usec);
    if (r < 0)
        return r;
    return classify(vigil_msg_append_int(msg, key.data, key.len, (int64_t)usec));
}

static int append_value(ErlNifEnv *env, struct vigil_msg *msg, struct bytes key, ERL_NIF_TERM value)
{
    ErlNifBinary bin;
    ErlNifSInt64 number;
    const ERL_NIF_TERM *tuple;
    int arity;

    if (enif_inspect_binary(env, value, &bin))
        return classify(vigil_msg_append(msg, key.data, key.len, (const char *)bin.data, bin.size));
    if (enif_get_int64(env, value, &number))
        return classify(vigil_msg_append_int(msg, key.data, key.len, number));
    if (enif_compare(value, atom_monotonic) == 0)
        return append_clock_value(msg, key);
    if (enif_get_tuple(env, value, &arity, &tuple) && arity == 2)
        return append_text_value(env, msg, key, tuple);
    return BAD_TYPE;
}

bool build_message(ErlNifEnv *env, ERL_NIF_TERM list, struct vigil_msg *msg,
                   ERL_NIF_TERM *ret_error)
{
    ERL_NIF_TERM head;
    const ERL_NIF_TERM *pair;
    int arity;
    char atom_buf[MAX_ATOM_LEN + 1];
    struct bytes key;

    vigil_msg_init(msg);
    while (enif_get_list_cell(env, list, &head, &list)) {
        if (!enif_get_tuple(env, head, &arity, &pair) || arity != 2 ||
            !get_key(env, pair[0], atom_buf, &key)) {
            *ret_error = enif_make_badarg(env);
            return false;
        }
        int r = append_value(env, msg, key, pair[1]);
        if (r == 0)
            continue;
        *ret_error = append_error(env, r, pair[0]);
        return false;
    }
    if (!enif_is_empty_list(env, list)) {
        *ret_error = enif_make_badarg(env);
        return false;
    }
    return true;
}

/* ---- NIFs ---- */

static int locked_send(struct vigil_state *state, const struct vigil_msg *msg, int pass_fd)
{
    enif_mutex_lock(state->lock);
    int r = vigil_conn_send(&state->conn, msg->buf, msg->len, pass_fd);
    enif_mutex_unlock(state->lock);
    return r;
}

ERL_NIF_TERM send_result(ErlNifEnv *env, int r)
{
    return r < 0 ? make_posix_error(env, r) : atom_ok;
}

int send_with_fds(ErlNifEnv *env, const struct vigil_msg *msg, const int *fds, size_t n_fds)
{
    struct vigil_state *state = enif_priv_data(env);

    enif_mutex_lock(state->lock);
    int r = vigil_conn_send_fds(&state->conn, msg->buf, msg->len, fds, n_fds);
    enif_mutex_unlock(state->lock);
    return r;
}

/* Sends msg; when the queue is full it becomes the pending latest message. Whatever happens,
 * an older pending one is now stale. */
static int locked_send_latest(struct vigil_state *state, const struct vigil_msg *msg)
{
    enif_mutex_lock(state->lock);
    int r = vigil_conn_send(&state->conn, msg->buf, msg->len, -1);
    state->has_latest = r == -EAGAIN;
    if (state->has_latest) {
        state->latest.len = msg->len;
        memcpy(state->latest.buf, msg->buf, msg->len);
    }
    enif_mutex_unlock(state->lock);
    return r;
}

/* configure(Address :: binary()) -> ok | {error, Posix} */
static ERL_NIF_TERM nif_configure(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_state *state = enif_priv_data(env);
    struct vigil_addr addr;
    ErlNifBinary bin;
    (void)argc;

    if (!enif_inspect_binary(env, argv[0], &bin))
        return enif_make_badarg(env);
    int r = vigil_addr_parse((const char *)bin.data, bin.size, &addr);
    if (r < 0)
        return make_posix_error(env, r);
    enif_mutex_lock(state->lock);
    vigil_conn_configure(&state->conn, &addr);
    enif_mutex_unlock(state->lock);
    return atom_ok;
}

/* reset() -> ok: forget the manager; later sends do nothing. */
static ERL_NIF_TERM nif_reset(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_state *state = enif_priv_data(env);
    (void)argc, (void)argv;

    enif_mutex_lock(state->lock);
    vigil_conn_reset(&state->conn);
    state->has_latest = false;
    enif_mutex_unlock(state->lock);
    return atom_ok;
}

/* enabled() -> boolean() */
static ERL_NIF_TERM nif_enabled(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_state *state = enif_priv_data(env);
    (void)argc, (void)argv;

    enif_mutex_lock(state->lock);
    bool configured = state->conn.configured;
    enif_mutex_unlock(state->lock);
    return configured ? atom_true : atom_false;
}

/* send([{Key, Value}]) -> ok | {error, Posix} | {error, {invalid, Key}}
 * Value :: binary() | integer() | monotonic | {text, iodata()} */
static ERL_NIF_TERM nif_send(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_msg msg;
    ERL_NIF_TERM error;
    (void)argc;

    if (!build_message(env, argv[0], &msg, &error))
        return error;
    return send_result(env, locked_send(enif_priv_data(env), &msg, -1));
}

/* send_latest([{Key, Value}]) -> as send/1, but latest-wins: {error, eagain} leaves the
 * message pending for flush_latest/0 unless a newer one replaces it. */
static ERL_NIF_TERM nif_send_latest(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_msg msg;
    ERL_NIF_TERM error;
    (void)argc;

    if (!build_message(env, argv[0], &msg, &error))
        return error;
    return send_result(env, locked_send_latest(enif_priv_data(env), &msg));
}

/* status(IoData) -> send_latest([{<<"STATUS">>, {text, IoData}}]), without building the list:
 * this is the call services make most. */
static ERL_NIF_TERM nif_status(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_msg msg;
    ErlNifBinary text;
    (void)argc;

    if (!enif_inspect_iolist_as_binary(env, argv[0], &text))
        return enif_make_badarg(env);
    vigil_msg_init(&msg);
    (void)vigil_msg_append_text(&msg, "STATUS", 6, (const char *)text.data, text.size);
    return send_result(env, locked_send_latest(enif_priv_data(env), &msg));
}

/* flush_latest() -> ok | {error, Posix}: send the pending latest message, if any; it stays
 * pending only on {error, eagain}. */
static ERL_NIF_TERM nif_flush_latest(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_state *state = enif_priv_data(env);
    int r = 0;
    (void)argc, (void)argv;

    enif_mutex_lock(state->lock);
    if (state->has_latest) {
        r = vigil_conn_send(&state->conn, state->latest.buf, state->latest.len, -1);
        state->has_latest = r == -EAGAIN;
    }
    enif_mutex_unlock(state->lock);
    return send_result(env, r);
}

/* Sends BARRIER=1 with the write end of a fresh pipe; the manager closes it once it has read
 * every earlier message. */
static int send_barrier(struct vigil_state *state, int *ret_read_fd)
{
    enif_mutex_lock(state->lock);
    int r = vigil_conn_send_barrier(&state->conn, ret_read_fd);
    enif_mutex_unlock(state->lock);
    return r;
}

/* barrier_start(Ref) -> {ok, Barrier} | ok | {error, Posix}
 * On {ok, Barrier} the caller receives {select, Barrier, Ref, ready_input} once the manager has
 * processed every earlier message; ok means there is no manager to wait for. */
static ERL_NIF_TERM nif_barrier_start(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_state *state = enif_priv_data(env);
    int fd = -1;
    (void)argc;

    if (!enif_is_ref(env, argv[0]))
        return enif_make_badarg(env);
    int r = send_barrier(state, &fd);
    if (r <= 0)
        return r == 0 ? atom_ok : make_posix_error(env, r);
    return start_watch(env, state, fd, ERL_NIF_SELECT_READ, argv[0]);
}

/* writable_select(Ref) -> {ok, Watch} | ok | {error, Posix}
 * On {ok, Watch} the caller receives {select, Watch, Ref, ready_output} once the socket to the
 * manager is writable: for a connected AF_UNIX datagram socket on Linux, once the manager's
 * receive queue has room. ok means there is no socket to wait on (not connected): try again. */
static ERL_NIF_TERM nif_writable_select(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_state *state = enif_priv_data(env);
    (void)argc;

    if (!enif_is_ref(env, argv[0]))
        return enif_make_badarg(env);
    enif_mutex_lock(state->lock);
    int fd = state->conn.fd >= 0 ? fcntl(state->conn.fd, F_DUPFD_CLOEXEC, 0) : -2;
    int saved_errno = errno;
    enif_mutex_unlock(state->lock);
    if (fd == -2)
        return atom_ok;
    if (fd < 0)
        return make_posix_error(env, -saved_errno);
    return start_watch(env, state, fd, ERL_NIF_SELECT_WRITE, argv[0]);
}

/* select_stop(Watch) -> ok: end a barrier's or a writability watch and close its descriptor. */
static ERL_NIF_TERM nif_select_stop(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_state *state = enif_priv_data(env);
    struct watch *w;
    (void)argc;

    if (!enif_get_resource(env, argv[0], state->watch_type, (void **)&w))
        return enif_make_badarg(env);
    if (w->fd >= 0)
        enif_select(env, (ErlNifEvent)w->fd, ERL_NIF_SELECT_STOP, w, NULL, atom_undefined);
    return atom_ok;
}

/* ---- load lifecycle ---- */

static struct vigil_state *new_state(ErlNifEnv *env)
{
    struct vigil_state *state = enif_alloc(sizeof(*state));
    if (!state)
        return NULL;
    state->lock = enif_mutex_create("vigil_conn");
    state->watch_type = open_watch_type(env, ERL_NIF_RT_CREATE);
    if (!state->lock || !state->watch_type) {
        if (state->lock)
            enif_mutex_destroy(state->lock);
        enif_free(state);
        return NULL;
    }
    vigil_conn_init(&state->conn);
    state->has_latest = false;
    return state;
}

static int on_load(ErlNifEnv *env, void **priv_data, ERL_NIF_TERM load_info)
{
    (void)load_info;
    init_atoms(env);
    if (!open_journal_type(env, ERL_NIF_RT_CREATE) || !open_pressure_type(env, ERL_NIF_RT_CREATE))
        return 1;
    *priv_data = new_state(env);
    return *priv_data ? 0 : 1;
}

/* A new version of the library takes over the open connection and the resource type. */
static int on_upgrade(ErlNifEnv *env, void **priv_data, void **old_priv_data,
                      ERL_NIF_TERM load_info)
{
    struct vigil_state *state = *old_priv_data;
    (void)load_info;

    init_atoms(env);
    if (!state)
        return on_load(env, priv_data, load_info);
    state->watch_type = open_watch_type(env, ERL_NIF_RT_TAKEOVER);
    if (!state->watch_type || !open_journal_type(env, ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER) ||
        !open_pressure_type(env, ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER))
        return 1;
    *priv_data = state;
    *old_priv_data = NULL;
    return 0;
}

static void on_unload(ErlNifEnv *env, void *priv_data)
{
    struct vigil_state *state = priv_data;
    (void)env;

    if (!state)
        return;
    vigil_conn_reset(&state->conn);
    enif_mutex_destroy(state->lock);
    enif_free(state);
}

static ErlNifFunc nif_funcs[] = {
    {"configure", 1, nif_configure, 0},
    {"reset", 0, nif_reset, 0},
    {"enabled", 0, nif_enabled, 0},
    {"send", 1, nif_send, 0},
    {"send_latest", 1, nif_send_latest, 0},
    {"status", 1, nif_status, 0},
    {"flush_latest", 0, nif_flush_latest, 0},
    {"barrier_start", 1, nif_barrier_start, 0},
    {"writable_select", 1, nif_writable_select, 0},
    {"select_stop", 1, nif_select_stop, 0},
    {"journal_open", 2, nif_journal_open, 0},
    {"journal_send", 2, nif_journal_send, 0},
    {"listen_fds", 4, nif_listen_fds, 0},
    {"describe_fd", 1, nif_describe_fd, 0},
    {"dup_fd", 1, nif_dup_fd, 0},
    {"fdname_valid", 1, nif_fdname_valid, 0},
    {"send_fds", 2, nif_send_fds, 0},
    {"pressure_open", 3, nif_pressure_open, 0},
    {"pressure_close", 1, nif_pressure_close, 0},
};

ERL_NIF_INIT(vigil_nif, nif_funcs, on_load, NULL, on_upgrade, on_unload)
