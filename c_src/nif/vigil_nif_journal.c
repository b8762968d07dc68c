/* vigil_nif_journal.c: the journal's NIFs (journal_open/2, journal_send/2) over vigil_journal.h.
 * The error rule is vigil_nif.c's. */
#include <errno.h>
#include <string.h>

#include <erl_nif.h>

#include "vigil_journal.h"
#include "vigil_nif.h"

/* ---- the journal (vigil_journal.h): one resource per open socket ----
 *
 * The socket belongs to the resource, so a logger handler holds it in its configuration and
 * logs from any process with no process of its own; it closes when the last reference goes. */

static ErlNifResourceType *journal_type;

/* Values larger than this in all go to a dirty I/O scheduler: copying them, and writing a memfd
 * for an entry too large for a datagram, may take longer than a NIF call should. */
#define JOURNAL_DIRTY_BYTES 65536

static void journal_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    vigil_journal_close(obj);
}

bool open_journal_type(ErlNifEnv *env, ErlNifResourceFlags flags)
{
    ErlNifResourceTypeInit init = {.dtor = journal_dtor};
    journal_type = enif_open_resource_type_x(env, "vigil_journal", &init, flags, NULL);
    return journal_type != NULL;
}

/* journal_open(Path :: binary(), SendBuffer :: non_neg_integer()) -> {ok, Journal} |
 * {error, Posix}. On the none platform the journal opens closed: sends return ok, send nothing. */
ERL_NIF_TERM nif_journal_open(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    ErlNifBinary path;
    int sndbuf;
    (void)argc;

    if (!enif_inspect_binary(env, argv[0], &path) || !enif_get_int(env, argv[1], &sndbuf) ||
        sndbuf < 0)
        return enif_make_badarg(env);
    struct vigil_journal *journal = enif_alloc_resource(journal_type, sizeof(*journal));
    if (!journal)
        return make_posix_error(env, -ENOMEM);
    int r = vigil_journal_open(journal, (const char *)path.data, path.size, sndbuf);
    ERL_NIF_TERM term = enif_make_resource(env, journal);
    enif_release_resource(journal);
    return r < 0 ? make_posix_error(env, r) : enif_make_tuple2(env, atom_ok, term);
}

/* The bytes of the values that are binaries; iolists are not measured. */
static size_t journal_binary_bytes(ErlNifEnv *env, ERL_NIF_TERM list)
{
    ERL_NIF_TERM head;
    const ERL_NIF_TERM *pair;
    int arity;
    ErlNifBinary bin;
    size_t total = 0;

    while (enif_get_list_cell(env, list, &head, &list))
        if (enif_get_tuple(env, head, &arity, &pair) && arity == 2 &&
            enif_inspect_binary(env, pair[1], &bin))
            total += bin.size;
    return total;
}

/* 0, BAD_TYPE, INVALID or -errno, as append_value(). */
static int journal_add(ErlNifEnv *env, struct vigil_jentry *entry, ERL_NIF_TERM field)
{
    const ERL_NIF_TERM *pair;
    int arity;
    char atom_buf[MAX_ATOM_LEN + 1];
    struct bytes key;
    ErlNifBinary value;

    if (!enif_get_tuple(env, field, &arity, &pair) || arity != 2 ||
        !get_key(env, pair[0], atom_buf, &key) ||
        !enif_inspect_iolist_as_binary(env, pair[1], &value))
        return BAD_TYPE;
    return classify(
        vigil_jentry_add(entry, key.data, key.len, (const char *)value.data, value.size));
}

/* The key of a well-formed field. */
static ERL_NIF_TERM field_key(ErlNifEnv *env, ERL_NIF_TERM field)
{
    const ERL_NIF_TERM *pair;
    int arity;
    return enif_get_tuple(env, field, &arity, &pair) ? pair[0] : field;
}

/* Builds the entry from [{Key, Value}]; on failure ret_error is the term to return. */
static bool build_entry(ErlNifEnv *env, ERL_NIF_TERM list, struct vigil_jentry *entry,
                        ERL_NIF_TERM *ret_error)
{
    ERL_NIF_TERM head;

    while (enif_get_list_cell(env, list, &head, &list)) {
        int r = journal_add(env, entry, head);
        if (r == 0)
            continue;
        *ret_error = append_error(env, r, field_key(env, head));
        return false;
    }
    if (!enif_is_empty_list(env, list)) {
        *ret_error = enif_make_badarg(env);
        return false;
    }
    return true;
}

/* journal_send(Journal, [{Key, Value :: iodata()}]) -> ok | {error, Posix} |
 * {error, {invalid, Key}}
 * ok also when the journal is closed (none platform). Never blocks: {error, eagain} when
 * journald's queue is full; {error, emsgsize} over 16 MiB; {error, e2big} over 1024 fields. */
ERL_NIF_TERM nif_journal_send(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_journal *journal;
    struct vigil_jentry entry;
    ERL_NIF_TERM error;

    if (!enif_get_resource(env, argv[0], journal_type, (void **)&journal) ||
        !enif_is_list(env, argv[1]))
        return enif_make_badarg(env);
    if (enif_thread_type() != ERL_NIF_THR_DIRTY_IO_SCHEDULER &&
        journal_binary_bytes(env, argv[1]) > JOURNAL_DIRTY_BYTES)
        return enif_schedule_nif(env, "journal_send", ERL_NIF_DIRTY_JOB_IO_BOUND, nif_journal_send,
                                 argc, argv);
    vigil_jentry_init(&entry);
    if (!build_entry(env, argv[1], &entry, &error)) {
        vigil_jentry_free(&entry);
        return error;
    }
    int r = vigil_journal_send(journal, entry.buf, entry.len);
    vigil_jentry_free(&entry);
    return send_result(env, r);
}
