/* One value of the `sockets` key, NAME=LISTEN: a listening stream socket that a socket unit
 * opens and passes to the service under NAME (LISTEN_FDNAMES). LISTEN is what ListenStream=
 * takes of it: a port, ADDRESS:PORT (IPv4), [ADDRESS6]:PORT or the absolute path of an AF_UNIX
 * socket. Checked where the key is read, so the model builds only from good values. */
#ifndef VIGIL_GEN_SOCKSPEC_H
#define VIGIL_GEN_SOCKSPEC_H

#include <stdbool.h>

/** Longest AF_UNIX socket path: sun_path holds 108 bytes with the terminating NUL. */
#define SOCK_PATH_MAX 107

/** Longest file descriptor name systemd passes (FDNAME_MAX). */
#define SOCK_NAME_MAX 255

/** What LISTEN names. */
enum sock_kind {
    SK_PORT, /**< a bare port: IPv6 wildcard that takes IPv4 too (or IPv4 without IPv6) */
    SK_IPV4, /**< ADDRESS:PORT */
    SK_IPV6, /**< [ADDRESS6]:PORT */
    SK_PATH  /**< an AF_UNIX stream socket in the file system */
};

/** A parsed NAME=LISTEN. */
struct sock_spec {
    char name[SOCK_NAME_MAX + 1];
    char listen[SOCK_PATH_MAX + 1]; /**< as written in ListenStream=, before escaping */
    enum sock_kind kind;
    unsigned port;          /**< 0 for a path */
    unsigned char addr[16]; /**< the address in network order (4 bytes for IPv4) */
    bool wildcard;          /**< any address: a bare port, 0.0.0.0 or [::] */
};

/** Parses `s`, NAME=LISTEN. Returns 0, or -EINVAL with `*ret_problem` set to the reason,
 * phrased to follow the value in a refusal. */
int sock_spec_parse(const char *s, struct sock_spec *ret, const char **ret_problem);

/** Why `a` and `b` cannot both be listed (the same name, or addresses one of which would keep
 * the other from binding), or NULL when they can. */
const char *sock_spec_clash(const struct sock_spec *a, const struct sock_spec *b);

/** True for one IPv6 socket that takes IPv4 as well: a bare port or [::]
 * (BindIPv6Only=both). */
bool sock_spec_dual(const struct sock_spec *s);

#endif
