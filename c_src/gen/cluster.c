/* Erlang distribution: what each `distribution` mode writes into the units, and why.
 *
 * The node is always node_name@dist_address with long names: an explicit host part, so its
 * name never rests on a host name lookup (OTP binds a UDP socket to port 0 to learn the host
 * name, and a socket-bind deny rule covering port 0 silently turns `-sname app` into
 * app@nohost).
 *
 * The cookie is a credential that OTP itself reads as $HOME/.erlang.cookie, HOME being the
 * credentials dir (0400, the service user's: "accessible by owner only" holds). The Elixir
 * release script always passes `--cookie "$RELEASE_COOKIE"`, so the unit gives a placeholder
 * there and once more in ERL_FLAGS: kernel's auth ignores -setcookie given more than once
 * ("legacy behaviour", OTP 25 to 28) and reads the file. Nothing secret is on a command line,
 * in the environment or in the release. */
#include "model_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Not a cookie: it is given twice, so OTP ignores it (see above). */
#define COOKIE_PLACEHOLDER "not-the-cookie-see-HOME"
#define EPMD_PORT 4369

static const char *const MODES[] = {"none", "local", "epmdless", "epmd_socket", "tls", NULL};

/* The credentials TLS distribution reads, by name. */
static const char *const TLS_CREDENTIALS[] = {"dist.crt", "dist.key", "dist-ca.crt", NULL};

/* What every mode but none opens, for the manifest. */
static const char *const OPENS[] = {
    NULL,
    "local: the distribution listens on dist_port of a loopback address only, no epmd; "
    "reachable from this host only",
    "epmdless: the distribution listens on dist_port of dist_address, no epmd; peers connect "
    "to that port (every node of the cluster uses the same)",
    "epmd_socket: the distribution listens on dist_port of dist_address; epmd, from "
    "<service>-epmd.socket, on port 4369 of the loopback and of dist_address",
    "tls: the distribution listens on dist_port of dist_address over TLS, no epmd; a peer "
    "needs a certificate of the cluster's CA (mutual authentication) and the cookie. The "
    "release must carry ssl (mix: releases: [app: [applications: [ssl: :load]]]), OTP 25 "
    "checks a peer's host part against its certificate as a DNS name (an address goes in as "
    "IP and DNS subjectAltName)",
};

bool dist_on(const struct ctx *c)
{
    return c->dist != DIST_NONE;
}

void credentials_dir(const struct ctx *c, struct buf *out)
{
    buf_printf(out, "/run/credentials/%s.service", c->n.svc);
}

/* Dotted IPv4 only, as inet_pton() reads it (no short forms, no leading zeros' octal). */
static int parse_ipv4(const char *s, unsigned char ip[4])
{
    return inet_pton(AF_INET, s, ip) == 1 ? 0 : -EINVAL;
}

static bool has_credential(const struct ctx *c, const char *name)
{
    size_t n = strlen(name);
    const struct strlist *l = &c->o->credentials;
    for (size_t i = 0; i < l->n; i++)
        if (strncmp(l->v[i], name, n) == 0 && l->v[i][n] == '=')
            return true;
    return false;
}

/* Whether a SocketBindDeny= rule covers port 0: one without a port (every port, 0 included:
 * socket-bind.bpf.c) or a range starting at 0. */
static bool deny_covers_port0(const char *rule)
{
    const char *colon = strrchr(rule, ':');
    const char *port = colon ? colon + 1 : rule;
    static const char *const no_port[] = {"any", "tcp", "udp", "ipv4", "ipv6", "", NULL};
    if (one_of(port, no_port))
        return true;
    return strtoul(port, NULL, 10) == 0;
}

/* An override that would bring the port-0 deny back; `drop` cannot add one. */
static int check_bind_override(struct ctx *c)
{
    const struct strlist *l = &c->o->override;
    for (size_t i = 0; i < l->n; i++) {
        const char *v = l->v[i];
        const char *key = strstr(v, "SocketBindDeny=");
        bool ours = key == v || (key == v + 8 && strncmp(v, "Service.", 8) == 0);
        if (ours && deny_covers_port0(key + 15))
            return fail(c, "override", v,
                        "denies binding port 0 with distribution on: OTP binds port 0 to learn "
                        "the host name and for DNS, so a node name without an explicit host "
                        "becomes name@nohost and libraries that resolve peers find none; deny "
                        "1-65535 instead");
    }
    return 0;
}

/* The variables distribution sets: one of them from env_vars would replace the unit's, and
 * ERL_FLAGS, RELEASE_COOKIE or HOME without the other two makes the placeholder the cookie. */
static int check_env_vars(struct ctx *c)
{
    static const char *const OWN[] = {"ERL_FLAGS",
                                      "RELEASE_COOKIE",
                                      "HOME",
                                      "RELEASE_NODE",
                                      "RELEASE_DISTRIBUTION",
                                      "RELEASE_REMOTE_VM_ARGS",
                                      NULL};
    const struct strlist *l = &c->o->env_vars;
    for (size_t i = 0; i < l->n; i++) {
        const char *eq = strchr(l->v[i], '=');
        char *name = xstrndup(l->v[i], eq ? (size_t)(eq - l->v[i]) : strlen(l->v[i]));
        bool taken = one_of(name, OWN);
        free(name);
        if (taken)
            return fail(c, "env_vars", l->v[i],
                        "sets a variable distribution sets itself (ERL_FLAGS, RELEASE_COOKIE, "
                        "HOME, RELEASE_NODE, RELEASE_DISTRIBUTION, RELEASE_REMOTE_VM_ARGS): the "
                        "cookie would no longer come from the credential; use node_name, "
                        "dist_address and dist_port, or vm.args for other VM flags");
    }
    return 0;
}

static int check_node_name(struct ctx *c)
{
    const char *name = c->node;
    size_t n = strlen(name);
    if (n == 0 || n > 200 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
        return fail(c, "node_name", name,
                    "is not a node name of [A-Za-z0-9_-] (the host part comes from "
                    "dist_address)");
    return 0;
}

static int check_tls(struct ctx *c)
{
    for (size_t i = 0; TLS_CREDENTIALS[i] != NULL; i++) {
        if (has_credential(c, TLS_CREDENTIALS[i]))
            continue;
        struct buf why = {0};
        buf_printf(&why,
                   "needs credentials %s=PATH (the node's certificate, its key and the "
                   "cluster's CA: dist.crt, dist.key, dist-ca.crt)",
                   TLS_CREDENTIALS[i]);
        int r = fail(c, "distribution", "tls", buf_str(&why));
        buf_free(&why);
        return r;
    }
    return 0;
}

/* The address: an IPv4 address, never the any address (a name needs one host), a loopback
 * one for local. */
static int check_address(struct ctx *c)
{
    const char *a = c->o->dist_address;
    if (parse_ipv4(a, c->dist_ip) < 0)
        return fail(c, "dist_address", a, "is not an IPv4 address such as 10.0.0.5");
    if (c->dist_ip[0] == 0)
        return fail(c, "dist_address", a,
                    "is not one address: the node name needs the address peers reach it on");
    if (c->dist == DIST_LOCAL && c->dist_ip[0] != 127)
        return fail(c, "dist_address", a,
                    "is not a loopback address, which distribution = local keeps to");
    if (c->o->dist_port == 0 || c->o->dist_port > 65535)
        return fail_number(c, "dist_port", c->o->dist_port, "is not a TCP port 1..65535");
    return 0;
}

static void note_unused_dist(struct ctx *c)
{
    bool none = !dist_on(c);
    const char *why = "distribution is none";
    static const char *const KEYS[] = {"cookie_file", "dist_address",  "dist_port",
                                       "node_name",   "cluster_peers", NULL};
    for (size_t i = 0; KEYS[i] != NULL; i++)
        note_unused(c, KEYS[i], none, why);
    note_unused(c, "epmd_path", c->dist != DIST_EPMD_SOCKET, "distribution is not epmd_socket");
}

static int check_mode(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    if (!knows(c, "LoadCredential", NULL)) {
        struct buf why = {0};
        buf_printf(&why, "needs systemd %u: the cookie is a credential (LoadCredential=)",
                   directive_since("LoadCredential", NULL));
        int r = fail(c, "distribution", o->distribution, buf_str(&why));
        buf_free(&why);
        return r;
    }
    if (o->cookie_file[0] == '\0')
        return fail(c, "distribution", o->distribution,
                    "needs cookie_file: the cookie comes from a credential, never from the "
                    "release, the environment or a command line");
    int r = check_address(c);
    if (r == 0)
        r = check_node_name(c);
    if (r == 0)
        r = check_env_vars(c);
    if (r == 0 && c->dist == DIST_TLS)
        r = check_tls(c);
    return r == 0 ? check_bind_override(c) : r;
}

int resolve_distribution(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    c->dist = DIST_NONE;
    for (int i = 0; MODES[i] != NULL; i++)
        if (strcmp(o->distribution, MODES[i]) == 0)
            c->dist = (enum dist_mode)i;
    c->node = derive(c, o->node_name, c->n.release);
    note_unused_dist(c);
    if (!dist_on(c)) {
        note(c, "distribution",
             "none: no remote console (bin/app remote and rpc cannot connect); distribution = "
             "local gives one from this host, on the loopback only",
             false);
        return 0;
    }
    if (o->private_network)
        return fail(c, "private_network", "yes", "leaves no network for distribution");
    int r = check_mode(c);
    if (r == 0)
        note(c, "distribution", OPENS[c->dist], false);
    if (r == 0 && o->env_files.n > 0)
        note(c, "env_files",
             "with distribution, an environment file must not set ERL_FLAGS, RELEASE_COOKIE, "
             "HOME or RELEASE_NODE: a lone -setcookie makes the placeholder the cookie",
             true);
    if (r == 0 && strcmp(o->release_tool, "relx") == 0)
        note(c, "distribution",
             "relx: the release's vm.args must not set -sname, -name or -setcookie, and "
             "ERL_FLAGS carries the rest; RELEASE_NODE and RELEASE_DISTRIBUTION reach mix "
             "releases only",
             true);
    return r;
}

/* The environment of a distributed node; `flags` gets the distribution's ERL_FLAGS. */
void build_dist_env(struct ctx *c, struct buf *flags)
{
    const unsigned char *ip = c->dist_ip;
    unsigned long port = c->o->dist_port;
    struct buf v = {0};
    struct buf dir = {0};
    credentials_dir(c, &dir);
    set_env_literal(c, "RELEASE_DISTRIBUTION", "name", "distribution: long names, host part given");
    buf_printf(&v, "%s@%s", c->node, c->o->dist_address);
    set_env_literal(c, "RELEASE_NODE", buf_str(&v), "node_name@dist_address");
    set_env_literal(c, "RELEASE_COOKIE", COOKIE_PLACEHOLDER,
                    "not the cookie: given twice with ERL_FLAGS' -setcookie, it is ignored and OTP "
                    "reads $HOME/.erlang.cookie, the credential");
    set_env_literal(c, "HOME", buf_str(&dir), "the credentials dir: .erlang.cookie is the cookie");
    buf_free(&v);
    buf_printf(&v, "%s/remote.vm.args", buf_str(&dir));
    set_env_literal(c, "RELEASE_REMOTE_VM_ARGS", buf_str(&v),
                    "bin/app remote and rpc: -dist_listen false, the port is the service's");
    buf_printf(flags, " -setcookie %s -start_epmd false", COOKIE_PLACEHOLDER);
    buf_printf(flags, " -kernel inet_dist_use_interface {%u,%u,%u,%u}", ip[0], ip[1], ip[2], ip[3]);
    if (c->dist == DIST_EPMD_SOCKET)
        buf_printf(flags, " inet_dist_listen_min %lu inet_dist_listen_max %lu", port, port);
    else
        buf_printf(flags, " -erl_epmd_port %lu", port);
    if (c->dist == DIST_TLS)
        buf_printf(flags, " -proto_dist inet_tls -ssl_dist_optfile %s/ssl_dist.conf",
                   buf_str(&dir));
    buf_free(&v);
    buf_free(&dir);
}

/* ssl_dist's options: the node's certificate both ways, peers verified against the CA, a
 * peer without a certificate refused. */
static void ssl_dist_conf(const struct ctx *c, struct buf *out)
{
    struct buf dir = {0};
    struct buf opts = {0};
    credentials_dir(c, &dir);
    const char *d = buf_str(&dir);
    buf_printf(
        &opts,
        "{certfile,\"%s/dist.crt\"},{keyfile,\"%s/dist.key\"},{cacertfile,\"%s/dist-ca.crt\"},"
        "{verify,verify_peer},{secure_renegotiate,true}",
        d, d, d);
    buf_printf(out, "[{server,[%s,{fail_if_no_peer_cert,true}]},{client,[%s]}].", buf_str(&opts),
               buf_str(&opts));
    buf_free(&dir);
    buf_free(&opts);
}

/* The cookie and the generated files from credentials. SetCredential= values take no
 * specifiers, so paths are written out. */
int build_dist_credentials(struct ctx *c)
{
    if (!dist_on(c))
        return 0;
    struct buf v = {0};
    buf_add(&v, ".erlang.cookie:");
    int r = path_value(c, "cookie_file", c->o->cookie_file, false, false, &v);
    if (r == 0)
        add(c, UF_SERVICE, SEC_SERVICE, "LoadCredential", buf_str(&v),
            "cookie_file, read by OTP as $HOME/.erlang.cookie (mode 0400, the service user's)");
    buf_free(&v);
    add(c, UF_SERVICE, SEC_SERVICE, "SetCredential", "remote.vm.args:-dist_listen false",
        "bin/app remote and rpc (RELEASE_REMOTE_VM_ARGS): no listener of their own");
    if (c->dist == DIST_TLS) {
        buf_add(&v, "ssl_dist.conf:");
        ssl_dist_conf(c, &v);
        add(c, UF_SERVICE, SEC_SERVICE, "SetCredential", buf_str(&v),
            "distribution = tls: -ssl_dist_optfile, mutual authentication");
        buf_free(&v);
    }
    return r;
}

/* The main service's ties to its epmd: the socket, not the service, which it activates. */
void build_dist_unit(struct ctx *c)
{
    if (c->dist != DIST_EPMD_SOCKET)
        return;
    struct buf u = {0};
    unit_file_name(&u, UF_EPMD_SOCKET, c->n.svc);
    const char *why = "distribution = epmd_socket: the node registers with its own epmd";
    add(c, UF_SERVICE, SEC_UNIT, "Requires", buf_str(&u), why);
    add(c, UF_SERVICE, SEC_UNIT, "After", buf_str(&u), why);
    add(c, UF_SERVICE, SEC_INSTALL, "Also", buf_str(&u), "epmd_socket: enabled with the service");
    buf_free(&u);
}

/* epmd needs nothing but the sockets systemd passes it (-systemd): no network of its own,
 * no files, no privileges. */
static const char *const EPMD_SANDBOX[][2] = {
    {"DynamicUser", "yes"},      {"NoNewPrivileges", "yes"}, {"CapabilityBoundingSet", ""},
    {"ProtectSystem", "strict"}, {"ProtectHome", "yes"},     {"PrivateTmp", "yes"},
    {"PrivateDevices", "yes"},   {"PrivateNetwork", "yes"},  {"PrivateUsers", "yes"},
};

static void epmd_listen(struct ctx *c, const char *address, const char *why)
{
    struct buf v = {0};
    buf_printf(&v, "%s:%d", address, EPMD_PORT);
    add(c, UF_EPMD_SOCKET, SEC_SOCKET, "ListenStream", buf_str(&v), why);
    buf_free(&v);
}

/* The socket: the loopback (nodes register there: epmd takes registrations from local peers
 * only) and dist_address (peers look names up there). Debian's epmd.socket listens on every
 * address on the same port, so it is stopped while this one runs. */
static void epmd_socket_unit(struct ctx *c)
{
    struct buf v = {0};
    buf_printf(&v, "epmd of %s.service", c->n.svc);
    add(c, UF_EPMD_SOCKET, SEC_UNIT, "Description", buf_str(&v), "distribution = epmd_socket");
    add(c, UF_EPMD_SOCKET, SEC_UNIT, "Conflicts", "epmd.socket epmd.service",
        "Debian's epmd listens on port 4369 of every address");
    add(c, UF_EPMD_SOCKET, SEC_UNIT, "After", "epmd.socket epmd.service",
        "Debian's epmd stops before this socket binds (any ordering puts a stop first)");
    epmd_listen(c, "127.0.0.1", "nodes of this host register over the loopback");
    if (strcmp(c->o->dist_address, "127.0.0.1") != 0)
        epmd_listen(c, c->o->dist_address, "dist_address: peers look the node's port up");
    add(c, UF_EPMD_SOCKET, SEC_SOCKET, "FreeBind", "yes",
        "dist_address may come up after the socket starts");
    const struct strlist *peers = &c->o->cluster_peers;
    if (peers->n > 0) {
        add(c, UF_EPMD_SOCKET, SEC_SOCKET, "IPAddressDeny", "any", "cluster_peers");
        add(c, UF_EPMD_SOCKET, SEC_SOCKET, "IPAddressAllow", "localhost", "cluster_peers");
        for (size_t i = 0; i < peers->n; i++)
            add(c, UF_EPMD_SOCKET, SEC_SOCKET, "IPAddressAllow", peers->v[i], "cluster_peers");
    }
    add(c, UF_EPMD_SOCKET, SEC_INSTALL, "WantedBy", "sockets.target", "listening from boot");
    buf_free(&v);
}

int build_epmd_units(struct ctx *c)
{
    if (c->dist != DIST_EPMD_SOCKET)
        return 0;
    struct buf v = {0};
    struct buf u = {0};
    buf_add(&v, "");
    int r = path_value(c, "epmd_path", c->o->epmd_path, false, false, &v);
    if (r == 0 && v.data[0] != '/')
        r = fail(c, "epmd_path", c->o->epmd_path, "is not an absolute path");
    if (r < 0) {
        buf_free(&v);
        return r;
    }
    epmd_socket_unit(c);
    unit_file_name(&u, UF_EPMD_SOCKET, c->n.svc);
    add(c, UF_EPMD_SERVICE, SEC_UNIT, "Description", "epmd, socket-activated", "epmd_socket");
    add(c, UF_EPMD_SERVICE, SEC_UNIT, "Requires", buf_str(&u), "epmd_socket");
    add(c, UF_EPMD_SERVICE, SEC_UNIT, "After", buf_str(&u), "epmd_socket");
    buf_add(&v, " -systemd");
    add(c, UF_EPMD_SERVICE, SEC_SERVICE, "ExecStart", buf_str(&v),
        "epmd_path; -systemd: the sockets come from the socket unit");
    const char *why = "epmd serves the sockets it is given and needs nothing else";
    for (size_t i = 0; i < ARRAY_SIZE(EPMD_SANDBOX); i++)
        add(c, UF_EPMD_SERVICE, SEC_SERVICE, EPMD_SANDBOX[i][0], EPMD_SANDBOX[i][1], why);
    harden_helper_service(c, UF_EPMD_SERVICE, why);
    buf_free(&v);
    buf_free(&u);
    c->m->has_file[UF_EPMD_SOCKET] = c->m->has_file[UF_EPMD_SERVICE] = true;
    return 0;
}
