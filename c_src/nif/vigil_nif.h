/* vigil_nif.h: what the NIF's files share (vigil_nif.c: notifications and the load lifecycle;
 * vigil_nif_journal.c: the journal; vigil_nif_sockets.c: socket activation and the fd store;
 * vigil_nif_pressure.c: the memory pressure watch).
 * Private to the NIF. */
#ifndef VIGIL_NIF_H
#define VIGIL_NIF_H

#include <stdbool.h>
#include <stddef.h>

#include <erl_nif.h>

#include "vigil_notify.h"

/* Atoms are never longer than this many characters. */
#define MAX_ATOM_LEN 255

/* What appending one assignment or field came to: 0 (appended), BAD_TYPE (badarg), INVALID
 * ({invalid, Key}), or -errno ({error, Posix}: EMSGSIZE, or the clock failing). */
enum { BAD_TYPE = 1, INVALID = 2 };

struct bytes {
    const char *data;
    size_t len;
};

extern ERL_NIF_TERM atom_ok;

/** {error, Posix} for a negative errno. */
ERL_NIF_TERM make_posix_error(ErlNifEnv *env, int negative_errno);

/** ok for a send that was done or had nothing to do (r >= 0), else {error, Posix}. */
ERL_NIF_TERM send_result(ErlNifEnv *env, int r);

/** The term for a failed append (BAD_TYPE, INVALID or -errno) of the assignment named key. */
ERL_NIF_TERM append_error(ErlNifEnv *env, int r, ERL_NIF_TERM key);

/** The core's -EINVAL as INVALID (the key or value); other results as they are. */
int classify(int r);

/** An atom, a binary or a character list (iolist) as bytes; buf backs an atom's text. */
bool get_key(ErlNifEnv *env, ERL_NIF_TERM term, char buf[MAX_ATOM_LEN + 1], struct bytes *ret_key);

/** Builds a message from [{Key, Value}]; on failure ret_error is the term to return. */
bool build_message(ErlNifEnv *env, ERL_NIF_TERM list, struct vigil_msg *msg,
                   ERL_NIF_TERM *ret_error);

/** Sends msg with n_fds descriptors on the connection to the manager (vigil_conn_send_fds). */
int send_with_fds(ErlNifEnv *env, const struct vigil_msg *msg, const int *fds, size_t n_fds);

/** Opens (or takes over) the journal resource type. */
bool open_journal_type(ErlNifEnv *env, ErlNifResourceFlags flags);

/** journal_open(Path, SendBuffer) -> {ok, Journal} | {error, Posix}. */
ERL_NIF_TERM nif_journal_open(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

/** journal_send(Journal, [{Key, Value}]) -> ok | {error, Posix} | {error, {invalid, Key}}. */
ERL_NIF_TERM nif_journal_send(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

/** The atoms of vigil_nif_sockets.c, made at load. */
void init_socket_atoms(ErlNifEnv *env);

/** listen_fds(Pid, PidFdId, Fds, FdNames) -> {ok, [{Fd, Name}]} | {error, Posix}. */
ERL_NIF_TERM nif_listen_fds(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

/** describe_fd(Fd) -> {ok, Info} | {error, Posix}. */
ERL_NIF_TERM nif_describe_fd(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

/** dup_fd(Fd) -> {ok, NewFd} | {error, Posix}. */
ERL_NIF_TERM nif_dup_fd(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

/** fdname_valid(Name) -> boolean(). */
ERL_NIF_TERM nif_fdname_valid(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

/** send_fds([{Key, Value}], [Fd]) -> ok | {error, Posix} | {error, {invalid, Key}}. */
ERL_NIF_TERM nif_send_fds(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

/** The atoms of vigil_nif_pressure.c, made at load. */
void init_pressure_atoms(ErlNifEnv *env);

/** Opens (or takes over) the memory pressure watch's resource type. */
bool open_pressure_type(ErlNifEnv *env, ErlNifResourceFlags flags);

/** pressure_open(Path, Write, Ref) -> {ok, Watch} | ok | {error, Posix} | {error, {invalid, Key}}.
 */
ERL_NIF_TERM nif_pressure_open(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

/** pressure_close(Watch) -> ok. */
ERL_NIF_TERM nif_pressure_close(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]);

#endif
