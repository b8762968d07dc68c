/* vigil_nif_pressure.c: the memory pressure watch's NIFs (pressure_open/3, pressure_close/1) over
 * vigil_pressure.h. The error rule is vigil_nif.c's.
 *
 * Why a thread of its own, not enif_select(): a PSI file signals pressure with POLLPRI only, and
 * enif_select() waits for readability (POLLIN), writability and, from OTP 26, errors; OTP 25 has
 * no way to ask the BEAM's poll set for POLLPRI, and OTP 27's ERL_NIF_SELECT_ERROR does not see
 * it either. So each watch has one thread blocked in poll() on the watch and on a wake pipe: it
 * blocks no scheduler, costs no CPU while nothing happens, and sends the owner a message per
 * event. The kernel fires a PSI trigger at most once per window (2 s as systemd writes it); a
 * socket or FIFO peer could send faster, which the Erlang side's rate limit absorbs.
 *
 * The thread uses only the resource's memory, which the destructor frees after joining it: the
 * thread holds no reference, so a watch nobody refers to any more is stopped and closed. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <erl_nif.h>

#include "vigil_nif.h"
#include "vigil_platform.h"
#include "vigil_pressure.h"

struct pressure {
    struct vigil_pressure watch;
    int wake[2]; /* written to stop the thread */
    ErlNifMutex *lock;
    bool running; /* guarded by lock: the thread is started and not joined yet */
    ErlNifTid tid;
    ErlNifPid owner;
    ErlNifEnv *ref_env; /* holds ref, read by the thread */
    ERL_NIF_TERM ref;
};

static ErlNifResourceType *pressure_type;
static ERL_NIF_TERM atom_vigil_pressure, atom_pressure, atom_undefined, atom_invalid;

void init_pressure_atoms(ErlNifEnv *env)
{
    atom_vigil_pressure = enif_make_atom(env, "vigil_pressure");
    atom_pressure = enif_make_atom(env, "pressure");
    atom_undefined = enif_make_atom(env, "undefined");
    atom_invalid = enif_make_atom(env, "invalid");
}

/* Send {vigil_pressure, Ref, What}, What made in msg_env. */
static void notify(struct pressure *p, ErlNifEnv *msg_env, ERL_NIF_TERM what)
{
    ERL_NIF_TERM msg =
        enif_make_tuple3(msg_env, atom_vigil_pressure, enif_make_copy(msg_env, p->ref), what);
    (void)enif_send(NULL, &p->owner, msg_env, msg);
    enif_clear_env(msg_env);
}

static bool woken(const struct pressure *p)
{
    struct pollfd w = {.fd = p->wake[0], .events = POLLIN};
    return poll(&w, 1, 0) > 0;
}

static void *watch_thread(void *arg)
{
    struct pressure *p = arg;
    ErlNifEnv *msg_env = enif_alloc_env();

    for (;;) {
        int r = vigil_pressure_wait(&p->watch, p->wake[0], -1);
        if (r > 0) {
            notify(p, msg_env, atom_pressure);
        } else if (r < 0) {
            notify(p, msg_env, make_posix_error(msg_env, r));
            break;
        } else if (woken(p)) {
            break;
        }
    }
    enif_free_env(msg_env);
    return NULL;
}

/* Wake the thread and wait for it: it leaves poll() at once. */
static void stop_thread(struct pressure *p)
{
    enif_mutex_lock(p->lock);
    if (p->running) {
        (void)!write(p->wake[1], "", 1);
        enif_thread_join(p->tid, NULL);
        p->running = false;
    }
    vigil_pressure_close(&p->watch);
    enif_mutex_unlock(p->lock);
}

static void pressure_dtor(ErlNifEnv *env, void *obj)
{
    struct pressure *p = obj;
    (void)env;

    if (p->lock) {
        stop_thread(p);
        enif_mutex_destroy(p->lock);
    }
    for (int i = 0; i < 2; i++)
        if (p->wake[i] >= 0)
            close(p->wake[i]);
    if (p->ref_env)
        enif_free_env(p->ref_env);
}

/* The type is named after this copy of the library: a running watch's thread executes this
 * copy's code, so an upgrade to another file must not take its watches over (the old library
 * then stays loaded until they are gone). Loaded again from the same file, the code is the same
 * and the name too, and the type is taken over as the others are. */
bool open_pressure_type(ErlNifEnv *env, ErlNifResourceFlags flags)
{
    static char name[64];
    ErlNifResourceTypeInit init = {.dtor = pressure_dtor};

    (void)snprintf(name, sizeof(name), "vigil_pressure@%p", (void *)&pressure_type);
    pressure_type = enif_open_resource_type_x(env, name, &init, flags, NULL);
    return pressure_type != NULL;
}

/* Decode MEMORY_PRESSURE_WRITE (undefined: unset) into buf. */
static int get_write(ErlNifEnv *env, ERL_NIF_TERM term, unsigned char *buf, size_t *ret_len,
                     bool *ret_set)
{
    ErlNifBinary text;

    *ret_set = !enif_is_identical(term, atom_undefined);
    if (!*ret_set)
        return 0;
    if (!enif_inspect_binary(env, term, &text))
        return BAD_TYPE;
    int r = vigil_base64_decode((const char *)text.data, text.size, buf, VIGIL_PRESSURE_WRITE_MAX,
                                ret_len);
    return r < 0 ? INVALID : 0;
}

/* A path as a C string; a NUL inside or one too long cannot name a file. */
static int get_path(ErlNifEnv *env, ERL_NIF_TERM term, char buf[PATH_MAX])
{
    ErlNifBinary bin;

    if (!enif_inspect_binary(env, term, &bin))
        return BAD_TYPE;
    if (bin.size == 0 || bin.size >= PATH_MAX || memchr(bin.data, 0, bin.size))
        return -EINVAL;
    memcpy(buf, bin.data, bin.size);
    buf[bin.size] = '\0';
    return 0;
}

static ERL_NIF_TERM write_key(ErlNifEnv *env)
{
    static const char key[] = "MEMORY_PRESSURE_WRITE";
    ERL_NIF_TERM term;
    memcpy(enif_make_new_binary(env, sizeof(key) - 1, &term), key, sizeof(key) - 1);
    return term;
}

static struct pressure *new_pressure(ErlNifEnv *env, ERL_NIF_TERM ref)
{
    struct pressure *p = enif_alloc_resource(pressure_type, sizeof(*p));
    if (!p)
        return NULL;
    *p = (struct pressure){.watch = {.fd = -1}, .wake = {-1, -1}};
    p->lock = enif_mutex_create("vigil_pressure");
    p->ref_env = enif_alloc_env();
    if (p->ref_env)
        p->ref = enif_make_copy(p->ref_env, ref);
    enif_self(env, &p->owner);
    return p;
}

/* Open the watch and start its thread. */
static int start(struct pressure *p, const char *path, const unsigned char *data, size_t len)
{
    if (!p->lock || !p->ref_env)
        return -ENOMEM;
    int r = vigil_pressure_open(path, data, len, &p->watch);
    if (r <= 0)
        return r;
    r = vigil_platform_pipe(p->wake);
    if (r < 0)
        return r;
    if (enif_thread_create("vigil_pressure", &p->tid, watch_thread, p, NULL) != 0)
        return -EAGAIN;
    p->running = true;
    return 1;
}

/* pressure_open(Path :: binary(), Write :: binary() | undefined, Ref :: reference()) ->
 * {ok, Watch} | ok | {error, Posix} | {error, {invalid, <<"MEMORY_PRESSURE_WRITE">>}}
 * The values of MEMORY_PRESSURE_WATCH and MEMORY_PRESSURE_WRITE. ok: the path is /dev/null, the
 * feature is off. On {ok, Watch} the caller receives {vigil_pressure, Ref, pressure} at each
 * event, and {vigil_pressure, Ref, {error, Posix}} once if the watch fails (it then stops). */
ERL_NIF_TERM nif_pressure_open(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    char path[PATH_MAX];
    unsigned char data[VIGIL_PRESSURE_WRITE_MAX];
    size_t len = 0;
    bool has_data = false;
    (void)argc;

    int bad = get_path(env, argv[0], path);
    int bad_write = get_write(env, argv[1], data, &len, &has_data);
    if (bad == BAD_TYPE || bad_write == BAD_TYPE || !enif_is_ref(env, argv[2]))
        return enif_make_badarg(env);
    if (bad < 0)
        return make_posix_error(env, bad);
    if (bad_write == INVALID)
        return append_error(env, INVALID, write_key(env));
    struct pressure *p = new_pressure(env, argv[2]);
    if (!p)
        return make_posix_error(env, -ENOMEM);
    int r = start(p, path, has_data ? data : NULL, len);
    ERL_NIF_TERM term = enif_make_resource(env, p);
    enif_release_resource(p);
    if (r <= 0)
        return r == 0 ? atom_ok : make_posix_error(env, r);
    return enif_make_tuple2(env, atom_ok, term);
}

/* pressure_close(Watch) -> ok: stop the thread and close the watch; no message comes after. */
ERL_NIF_TERM nif_pressure_close(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct pressure *p;
    (void)argc;

    if (!enif_get_resource(env, argv[0], pressure_type, (void **)&p))
        return enif_make_badarg(env);
    stop_thread(p);
    return atom_ok;
}
