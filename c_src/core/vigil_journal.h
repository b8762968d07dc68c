/* vigil_journal.h: journald's native protocol (systemd's docs/JOURNAL_NATIVE_PROTOCOL.md), with
 * no Erlang in it.
 *
 * One datagram is one entry: fields "KEY=VALUE\n", or "KEY\n" + the value's length as a 64-bit
 * little-endian integer + the value + "\n" when the value holds a newline. An entry too large for
 * a datagram goes as an empty datagram carrying a sealed memfd (SCM_RIGHTS), as libsystemd does.
 *
 * Return convention, as the rest of the core: 0 = nothing done, > 0 = done, -errno = failure.
 *
 * Platforms: the socket, the memfd and the send are the platform layer's (vigil_platform.h).
 * Built with VIGIL_PLATFORM=none there is no journal to reach: vigil_journal_open() leaves the
 * journal closed and returns 0, and every vigil_journal_send() returns 0 (nothing sent). Entries
 * are still built and checked exactly as on Linux.
 */
#ifndef VIGIL_JOURNAL_H
#define VIGIL_JOURNAL_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/** journald's journal_field_valid(): longest key. */
#define VIGIL_JOURNAL_KEY_MAX 64
/** journald ignores an entry with more fields than this (ENTRY_FIELD_COUNT_MAX). */
#define VIGIL_JOURNAL_FIELDS_MAX 1024
/** Largest entry sent: journald's own limit on a field (DATA_SIZE_MAX). Callers choose a lower
 * limit per entry (vigil_jentry.max); journald 252 takes up to this through a sealed memfd, newer
 * ones less from an unprivileged sender (32 MiB, half that when the file is not sealed). */
#define VIGIL_JOURNAL_ENTRY_MAX ((size_t)768 * 1024 * 1024)
/** The send buffer journald's own client asks for (fd_inc_sndbuf(fd, 8 MiB)). */
#define VIGIL_JOURNAL_SNDBUF 8388608

/** An entry being built; buf is malloc'ed, NULL while empty. It never grows past max bytes
 * (VIGIL_JOURNAL_ENTRY_MAX after vigil_jentry_init(), lower if the caller sets it so). */
struct vigil_jentry {
    char *buf;
    size_t len;
    size_t cap;
    size_t fields;
    size_t max;
};

/** Where entries go; fd is -1 while closed (never opened, or no journal on this platform). */
struct vigil_journal {
    int fd;
    struct sockaddr_un addr;
    socklen_t addr_len;
};

/**
 * Whether key is a field name journald keeps (journal_field_valid()): 1 to 64 characters of
 * A-Z, 0-9 and '_', not starting with a digit or '_'. journald drops other fields silently.
 * @param key the name, not NUL-terminated
 * @param len its length in bytes
 * @return 0 or -EINVAL
 */
int vigil_journal_key_check(const char *key, size_t len);

/**
 * Start an empty entry of at most VIGIL_JOURNAL_ENTRY_MAX bytes; nothing is allocated until the
 * first field.
 * @param entry the entry
 */
void vigil_jentry_init(struct vigil_jentry *entry);

/**
 * Append one field, in the binary form when the value holds a newline. Values are bytes: any
 * byte, NUL included, is kept as given.
 * @param entry the entry
 * @param key the field name, checked with vigil_journal_key_check()
 * @param key_len its length
 * @param value the value
 * @param value_len its length
 * @return 0; -EINVAL (key); -E2BIG (already VIGIL_JOURNAL_FIELDS_MAX fields); -EMSGSIZE (the
 *         entry would exceed entry->max); -ENOMEM. The entry is unchanged on error.
 */
int vigil_jentry_add(struct vigil_jentry *entry, const char *key, size_t key_len, const char *value,
                     size_t value_len);

/**
 * Free the entry's buffer and make it empty again.
 * @param entry the entry
 */
void vigil_jentry_free(struct vigil_jentry *entry);

/**
 * Open a datagram socket (close-on-exec) for the journal at path, with its send buffer raised
 * to sndbuf bytes (SO_SNDBUF, then SO_SNDBUFFORCE where permitted). The socket is not connected:
 * every send names the address, so a restarted journald is found again.
 * @param journal the journal, closed; written on success
 * @param path the socket's path, or "@name" for an abstract name; not NUL-terminated
 * @param len its length
 * @param sndbuf the send buffer to ask for, in bytes (VIGIL_JOURNAL_SNDBUF as journald's client)
 * @return 1 open; 0 no journal on this platform (closed, sends return 0); -EINVAL (not an
 *         AF_UNIX path), -E2BIG (too long), or -errno from socket()
 */
int vigil_journal_open(struct vigil_journal *journal, const char *path, size_t len, int sndbuf);

/**
 * Close the socket, if open.
 * @param journal the journal
 */
void vigil_journal_close(struct vigil_journal *journal);

/**
 * Send one entry without blocking (MSG_DONTWAIT|MSG_NOSIGNAL). When it is too large for a
 * datagram (EMSGSIZE, ENOBUFS), it is written to a memfd sealed as journald 252 requires
 * (F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE, no F_SEAL_EXEC), or to an unlinked file
 * in /dev/shm where memfds fail or cannot be sealed so, and that descriptor is sent with an
 * empty payload.
 * @param journal the journal
 * @param data the entry, as built by vigil_jentry_add()
 * @param len its length
 * @return 0 journal closed (nothing sent); 1 sent as a datagram; 2 sent through a file;
 *         -EAGAIN journald's queue or our send buffer is full; -EMSGSIZE more than
 *         VIGIL_JOURNAL_ENTRY_MAX; -ENOENT/-ECONNREFUSED no journald listening; another -errno
 */
int vigil_journal_send(const struct vigil_journal *journal, const char *data, size_t len);

#endif
