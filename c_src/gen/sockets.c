/* Socket activation and the fd store: one socket unit per `sockets` value (FileDescriptorName=
 * names every socket of a unit, so a name needs a unit of its own), the service's ties to them,
 * and FileDescriptorStoreMax=. The ties are those of systemd-journald.service: Requires= and
 * After= (the service does not start without its sockets; a restart of the service leaves
 * them listening), Sockets= (exactly these are passed), Also= (enabling the service enables
 * them); each socket unit names the service with Service=. */
#include "model_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A unit name holds [A-Za-z0-9:_.-] and `\` escapes, which not every setting that names a unit
 * reads back (Sockets= unescapes them); `@` would make it a template instance. */
static void unit_name_part(struct buf *out, const char *name)
{
    for (const char *p = name; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-';
        buf_addc(out, (char)(plain ? *p : '_'));
    }
}

/* The first socket's unit is <svc>.socket, systemd's own pairing; the others
 * <svc>-NAME.socket. */
static void socket_unit_name(const struct ctx *c, size_t i, struct buf *out)
{
    buf_add(out, c->n.svc);
    if (i > 0) {
        buf_addc(out, '-');
        unit_name_part(out, c->socks[i].name);
    }
    buf_add(out, ".socket");
}

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* A socket file in the runtime dir goes when the service stops, while its unit listens on. */
static int check_socket_path(struct ctx *c, size_t i)
{
    struct buf dir = {0};
    buf_printf(&dir, "/run/%s", c->n.svc);
    bool removed = has_dir(c, "runtime") && strcmp(c->o->runtime_directory_preserve, "yes") != 0;
    bool inside = c->socks[i].kind == SK_PATH && under(c->socks[i].listen, buf_str(&dir));
    buf_free(&dir);
    if (!removed || !inside)
        return 0;
    return fail(c, "sockets", c->o->sockets.v[i],
                "is in the service's runtime dir, which systemd removes when the service stops "
                "(runtime_directory_preserve is not yes) while the socket unit listens on: put "
                "it beside, e.g. /run/NAME.sock");
}

static int name_unit(struct ctx *c, size_t i)
{
    struct unit_model *m = c->m;
    struct buf unit = {0};
    socket_unit_name(c, i, &unit);
    const char *problem = unit.len > 255 ? "makes a socket unit name longer than 255 bytes" : NULL;
    for (size_t j = 0; problem == NULL && j < i; j++)
        if (strcmp(m->sockets[j].unit, buf_str(&unit)) == 0)
            problem = "makes the socket unit name of another socket (characters a unit name "
                      "cannot hold become _)";
    if (problem != NULL) {
        buf_free(&unit);
        return fail(c, "sockets", c->o->sockets.v[i], problem);
    }
    m->sockets[i] = (struct unit_socket){.unit = buf_steal(&unit),
                                         .name = xstrdup(c->socks[i].name),
                                         .listen = xstrdup(c->socks[i].listen)};
    m->n_sockets = i + 1;
    return check_socket_path(c, i);
}

/* The values were checked when the key was read; what depends on other keys is checked here. */
int resolve_sockets(struct ctx *c)
{
    const struct strlist *l = &c->o->sockets;
    const char *problem = NULL;
    note_unused(c, "socket_backlog", l->n == 0, "no sockets");
    if (l->n == 0)
        return 0;
    if (!knows(c, "FileDescriptorName", NULL)) {
        struct buf why = {0};
        buf_printf(&why,
                   "needs systemd %u for a named socket (FileDescriptorName=, LISTEN_FDNAMES)",
                   directive_since("FileDescriptorName", NULL));
        int r = fail(c, "sockets", l->v[0], buf_str(&why));
        buf_free(&why);
        return r;
    }
    c->socks = xcalloc(l->n, sizeof(*c->socks));
    c->m->sockets = xcalloc(l->n, sizeof(*c->m->sockets));
    c->m->socket_backlog = c->o->socket_backlog;
    int r = 0;
    for (size_t i = 0; r == 0 && i < l->n; i++) {
        (void)sock_spec_parse(l->v[i], &c->socks[i], &problem);
        c->nsocks = i + 1;
        r = name_unit(c, i);
    }
    return r;
}

/* Whether a socket unit listens on TCP `port` for the service, which then never binds it. */
bool socket_port(const struct ctx *c, unsigned long port)
{
    for (size_t i = 0; i < c->nsocks; i++)
        if (c->socks[i].kind != SK_PATH && c->socks[i].port == port)
            return true;
    return false;
}

/* With private_network a socket-activated service is reached only through its sockets, which
 * the service's own IP access list does not filter (systemd.resource-control(5): it is not
 * applied to sockets passed in), so every address can be denied to what it opens itself. */
bool denies_all_ip(const struct ctx *c)
{
    return c->nsocks > 0 && c->o->private_network && c->o->ip_address_allow.n == 0;
}

static void add_socket(struct ctx *c, size_t i, enum unit_section s, const char *key,
                       const char *value, const char *reason)
{
    add(c, UF_SOCKET, s, key, value, reason);
    c->m->d[c->m->n - 1].part = (unsigned)i;
}

/* A value with `%` written as `%%`, so systemd reads back what was given. */
static void add_socket_escaped(struct ctx *c, size_t i, enum unit_section s, const char *key,
                               const char *value, const char *reason)
{
    struct buf v = {0};
    buf_add(&v, "");
    spec_escape(&v, value, false);
    add_socket(c, i, s, key, buf_str(&v), reason);
    buf_free(&v);
}

/* An AF_UNIX socket's file: the service's user and group may connect (clients join the
 * group). A dynamic user does not exist before the service starts, so the file stays root's. */
static void socket_file(struct ctx *c, size_t i)
{
    if (!c->o->dynamic_user) {
        add_socket(c, i, SEC_SOCKET, "SocketUser", c->n.user, "app_user owns the socket file");
        add_socket(c, i, SEC_SOCKET, "SocketGroup", c->n.group, "app_group's members may connect");
    }
    add_socket(c, i, SEC_SOCKET, "SocketMode", "0660",
               c->o->dynamic_user ? "the socket file is root's: a dynamic user does not exist "
                                    "before the service starts"
                                  : "only the owner and the group connect");
}

/* ip_address_allow: the service's list does not filter the sockets passed to it, so each
 * socket unit carries it too, as systemd.resource-control(5) advises. */
static void socket_ip_allow(struct ctx *c, size_t i)
{
    const struct strlist *l = &c->o->ip_address_allow;
    const char *why = "ip_address_allow, repeated: the service's list does not filter sockets "
                      "passed to it";
    if (l->n == 0)
        return;
    add_socket(c, i, SEC_SOCKET, "IPAddressDeny", "any", why);
    for (size_t j = 0; j < l->n; j++)
        add_socket(c, i, SEC_SOCKET, "IPAddressAllow", l->v[j], why);
}

static void socket_unit(struct ctx *c, size_t i)
{
    const struct sock_spec *s = &c->socks[i];
    struct buf v = {0};
    buf_printf(&v, "Socket %s of %s.service", s->name, c->n.svc);
    add_socket_escaped(c, i, SEC_UNIT, "Description", buf_str(&v), "sockets");
    add_socket_escaped(c, i, SEC_SOCKET, "ListenStream", s->listen, "sockets");
    add_socket_escaped(c, i, SEC_SOCKET, "FileDescriptorName", s->name,
                       "sockets: the name the service finds it by (LISTEN_FDNAMES)");
    buf_free(&v);
    buf_printf(&v, "%s.service", c->n.svc);
    add_socket(c, i, SEC_SOCKET, "Service", buf_str(&v), "the service it starts and passes to");
    buf_free(&v);
    if (sock_spec_dual(s))
        add_socket(c, i, SEC_SOCKET, "BindIPv6Only", "both",
                   "IPv4 too on the IPv6 socket, whatever net.ipv6.bindv6only says");
    if (s->kind != SK_PATH)
        add_socket(c, i, SEC_SOCKET, "NoDelay", "yes", "TCP: no Nagle delay on small replies");
    if (c->o->socket_backlog > 0) {
        buf_printf(&v, "%lu", c->o->socket_backlog);
        add_socket(c, i, SEC_SOCKET, "Backlog", buf_str(&v), "socket_backlog");
        buf_free(&v);
    }
    if (s->kind == SK_PATH)
        socket_file(c, i);
    socket_ip_allow(c, i);
    add_socket(c, i, SEC_INSTALL, "WantedBy", "sockets.target", "listening from boot");
}

/* FileDescriptorStoreMax=; only a notifying service can send descriptors to the store. From
 * 254 FileDescriptorStorePreserve=yes keeps the store across a stop; an older target lacks it
 * and is not warned (nothing was asked for that it cannot do): the manifest says it. */
static void build_fd_store(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    bool notify = strcmp(o->service_type, "notify") == 0;
    note_unused(c, "fd_store_max", !notify,
                "only service_type = notify sends to the fd store (NotifyAccess=)");
    if (!notify || !gen_opt_given(o, "fd_store_max"))
        return;
    addf(c, SEC_SERVICE, "FileDescriptorStoreMax", "fd_store_max", false, o->fd_store_max);
    c->m->fd_store_max = o->fd_store_max;
    if (o->fd_store_max == 0)
        return;
    add(c, UF_SERVICE, SEC_SERVICE, "FileDescriptorStorePreserve", "yes",
        "fd_store_max: the store outlives a stop, for as long as the unit is loaded");
    struct directive *d = &c->m->d[c->m->n - 1];
    if (d->status != DS_DROPPED)
        return;
    struct buf why = {0};
    buf_printf(&why, "%s: the store lasts across restarts only", d->reason);
    free(d->reason);
    d->reason = buf_steal(&why);
    d->too_new = false;
}

int build_sockets(struct ctx *c)
{
    for (size_t i = 0; i < c->nsocks; i++) {
        const char *unit = c->m->sockets[i].unit;
        add(c, UF_SERVICE, SEC_UNIT, "Requires", unit, "sockets: not started without them");
        add(c, UF_SERVICE, SEC_UNIT, "After", unit, "sockets");
        add(c, UF_SERVICE, SEC_SERVICE, "Sockets", unit, "sockets: the descriptors passed");
        add(c, UF_SERVICE, SEC_INSTALL, "Also", unit, "sockets: enabled with the service");
        socket_unit(c, i);
    }
    c->m->has_file[UF_SOCKET] = c->nsocks > 0;
    build_fd_store(c);
    return 0;
}
