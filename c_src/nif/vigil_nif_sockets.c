/* vigil_nif_sockets.c: socket activation and the fd store's NIFs over vigil_listen.h. The error
 * rule is vigil_nif.c's. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <erl_nif.h>

#include "vigil_listen.h"
#include "vigil_nif.h"
#include "vigil_notify.h"

static ERL_NIF_TERM atom_undefined, atom_true, atom_false, atom_family, atom_type, atom_listening,
    atom_socket, atom_port, atom_addr, atom_path, atom_backlog;

struct atom_value {
    int value;
    const char *name;
};

/* The names OTP's socket module gives (socket:domain(), socket:type()); others are integers. */
static const struct atom_value families[] = {
    {AF_INET, "inet"},       {AF_INET6, "inet6"}, {AF_UNIX, "local"},
#ifdef AF_NETLINK
    {AF_NETLINK, "netlink"},
#endif
#ifdef AF_PACKET
    {AF_PACKET, "packet"},
#endif
#ifdef AF_VSOCK
    {AF_VSOCK, "vsock"},
#endif
};

static const struct atom_value types[] = {
    {SOCK_STREAM, "stream"}, {SOCK_DGRAM, "dgram"}, {SOCK_SEQPACKET, "seqpacket"},
    {SOCK_RAW, "raw"},       {SOCK_RDM, "rdm"},
};

void init_socket_atoms(ErlNifEnv *env)
{
    atom_undefined = enif_make_atom(env, "undefined");
    atom_true = enif_make_atom(env, "true");
    atom_false = enif_make_atom(env, "false");
    atom_family = enif_make_atom(env, "family");
    atom_type = enif_make_atom(env, "type");
    atom_listening = enif_make_atom(env, "listening");
    atom_socket = enif_make_atom(env, "socket");
    atom_port = enif_make_atom(env, "port");
    atom_addr = enif_make_atom(env, "addr");
    atom_path = enif_make_atom(env, "path");
    atom_backlog = enif_make_atom(env, "backlog");
}

/* A binary, or undefined for a variable that was unset. */
static bool get_text(ErlNifEnv *env, ERL_NIF_TERM term, struct vigil_text *ret_text)
{
    ErlNifBinary bin;

    if (enif_is_identical(term, atom_undefined)) {
        *ret_text = (struct vigil_text){NULL, 0};
        return true;
    }
    if (!enif_inspect_binary(env, term, &bin))
        return false;
    /* A NULL data would read as unset: an empty binary points at a constant instead. */
    *ret_text = (struct vigil_text){bin.size ? (const char *)bin.data : "", bin.size};
    return true;
}

static bool get_fd(ErlNifEnv *env, ERL_NIF_TERM term, int *ret_fd)
{
    return enif_get_int(env, term, ret_fd) && *ret_fd >= 0;
}

/* [{Fd, Name}] for the n descriptors passed, or {error, einval} for a malformed name. */
static ERL_NIF_TERM fd_list(ErlNifEnv *env, const struct vigil_listen_env *listen, int n)
{
    struct vigil_listen_names names;
    struct vigil_text raw;
    size_t len = 0;
    ERL_NIF_TERM list = enif_make_list(env, 0);

    vigil_listen_names_init(&names, listen);
    for (int i = 0; i < n; i++) {
        if (vigil_listen_names_next(&names, &raw, &len) <= 0)
            return make_posix_error(env, -EINVAL);
        ERL_NIF_TERM name;
        unsigned char *out = enif_make_new_binary(env, len, &name);
        vigil_listen_name_copy(raw, (char *)out);
        ERL_NIF_TERM pair =
            enif_make_tuple2(env, enif_make_int(env, VIGIL_LISTEN_FDS_START + i), name);
        list = enif_make_list_cell(env, pair, list);
    }
    ERL_NIF_TERM reversed;
    enif_make_reverse_list(env, list, &reversed);
    return enif_make_tuple2(env, atom_ok, reversed);
}

/* listen_fds(Pid, PidFdId, Fds, FdNames) -> {ok, [{Fd, Name}]} | {error, Posix}
 * The values of LISTEN_PID, LISTEN_PIDFDID, LISTEN_FDS and LISTEN_FDNAMES, binaries or undefined.
 * Sets FD_CLOEXEC on every descriptor passed; [] when none was passed to this process. */
ERL_NIF_TERM nif_listen_fds(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_listen_env listen;
    struct vigil_listen_self self;
    (void)argc;

    if (!get_text(env, argv[0], &listen.pid) || !get_text(env, argv[1], &listen.pidfdid) ||
        !get_text(env, argv[2], &listen.fds) || !get_text(env, argv[3], &listen.fdnames))
        return enif_make_badarg(env);
    vigil_listen_self(&self);
    int n = vigil_listen_claim(&listen, &self);
    if (n < 0)
        return make_posix_error(env, n);
    return fd_list(env, &listen, n);
}

static ERL_NIF_TERM atom_or_int(ErlNifEnv *env, const struct atom_value *table, size_t len,
                                int value)
{
    for (size_t i = 0; i < len; i++)
        if (table[i].value == value)
            return enif_make_atom(env, table[i].name);
    return enif_make_int(env, value);
}

static ERL_NIF_TERM ip_term(ErlNifEnv *env, const struct vigil_fd_info *info)
{
    ERL_NIF_TERM parts[8];

    if (info->ip_len == 4) {
        for (size_t i = 0; i < 4; i++)
            parts[i] = enif_make_uint(env, info->ip[i]);
        return enif_make_tuple_from_array(env, parts, 4);
    }
    for (size_t i = 0; i < 8; i++)
        parts[i] = enif_make_uint(env, (unsigned)info->ip[2 * i] << 8 | info->ip[2 * i + 1]);
    return enif_make_tuple_from_array(env, parts, 8);
}

static ERL_NIF_TERM put(ErlNifEnv *env, ERL_NIF_TERM map, ERL_NIF_TERM key, ERL_NIF_TERM value)
{
    ERL_NIF_TERM out = map;
    (void)enif_make_map_put(env, map, key, value, &out);
    return out;
}

/* The address of an IP or AF_UNIX socket, and the accept queue limit of a listening one. */
static ERL_NIF_TERM put_details(ErlNifEnv *env, ERL_NIF_TERM map, const struct vigil_fd_info *info)
{
    if (info->ip_len > 0) {
        map = put(env, map, atom_port, enif_make_uint(env, info->port));
        map = put(env, map, atom_addr, ip_term(env, info));
    }
    if (info->family == AF_UNIX) {
        ERL_NIF_TERM path;
        memcpy(enif_make_new_binary(env, info->path_len, &path), info->path, info->path_len);
        map = put(env, map, atom_path, path);
    }
    if (info->backlog >= 0)
        map = put(env, map, atom_backlog, enif_make_int(env, info->backlog));
    return map;
}

static ERL_NIF_TERM info_map(ErlNifEnv *env, const struct vigil_fd_info *info)
{
    ERL_NIF_TERM map = enif_make_new_map(env);

    map = put(env, map, atom_socket, info->socket ? atom_true : atom_false);
    map = put(env, map, atom_listening, info->listening ? atom_true : atom_false);
    if (!info->socket) {
        map = put(env, map, atom_family, atom_undefined);
        return put(env, map, atom_type, atom_undefined);
    }
    map = put(env, map, atom_family,
              atom_or_int(env, families, sizeof(families) / sizeof(families[0]), info->family));
    map = put(env, map, atom_type,
              atom_or_int(env, types, sizeof(types) / sizeof(types[0]), info->type));
    return put_details(env, map, info);
}

/* describe_fd(Fd) -> {ok, #{socket, family, type, listening, port, addr, path, backlog}} |
 * {error, Posix}. family and type are undefined for a descriptor that is not a socket; port and
 * addr are there for IP sockets, path for AF_UNIX ones, backlog where the platform tells it. */
ERL_NIF_TERM nif_describe_fd(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_fd_info info;
    int fd;
    (void)argc;

    if (!get_fd(env, argv[0], &fd))
        return enif_make_badarg(env);
    int r = vigil_fd_describe(fd, &info);
    if (r < 0)
        return make_posix_error(env, r);
    return enif_make_tuple2(env, atom_ok, info_map(env, &info));
}

/* dup_fd(Fd) -> {ok, NewFd} | {error, Posix}: a close-on-exec duplicate the caller owns. */
ERL_NIF_TERM nif_dup_fd(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    int fd;
    (void)argc;

    if (!get_fd(env, argv[0], &fd))
        return enif_make_badarg(env);
    int copy = vigil_fd_dup(fd);
    if (copy < 0)
        return make_posix_error(env, copy);
    return enif_make_tuple2(env, atom_ok, enif_make_int(env, copy));
}

/* fdname_valid(Name :: binary()) -> boolean(): whether the fd store takes Name (vigil_listen.h). */
ERL_NIF_TERM nif_fdname_valid(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    ErlNifBinary name;
    (void)argc;

    if (!enif_inspect_binary(env, argv[0], &name))
        return enif_make_badarg(env);
    return vigil_fdname_check((const char *)name.data, name.size) == 0 ? atom_true : atom_false;
}

/* The descriptors of [Fd]: every element checked, the first VIGIL_SCM_MAX_FD kept, all counted
 * (the caller refuses more). */
static bool get_fds(ErlNifEnv *env, ERL_NIF_TERM list, int fds[VIGIL_SCM_MAX_FD], size_t *ret_n)
{
    ERL_NIF_TERM head;
    size_t n = 0;
    int fd;

    while (enif_get_list_cell(env, list, &head, &list)) {
        if (!get_fd(env, head, &fd))
            return false;
        if (n < VIGIL_SCM_MAX_FD)
            fds[n] = fd;
        n++;
    }
    *ret_n = n;
    return enif_is_empty_list(env, list);
}

/* send_fds([{Key, Value}], [Fd]) -> ok | {error, Posix} | {error, {invalid, Key}}: one message
 * with the descriptors (SCM_RIGHTS); e2big for more than the kernel passes at once (253). */
ERL_NIF_TERM nif_send_fds(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct vigil_msg msg;
    ERL_NIF_TERM error;
    int fds[VIGIL_SCM_MAX_FD];
    size_t n_fds = 0;
    (void)argc;

    if (!get_fds(env, argv[1], fds, &n_fds))
        return enif_make_badarg(env);
    if (!build_message(env, argv[0], &msg, &error))
        return error;
    if (n_fds > VIGIL_SCM_MAX_FD)
        return make_posix_error(env, -E2BIG);
    return send_result(env, send_with_fds(env, &msg, fds, n_fds));
}
