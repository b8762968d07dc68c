/* The hardening profiles and what opens them, sandbox paths, network restrictions, socket
 * binding, and the exposure score systemd is expected to give the result. */
#include "model_internal.h"

#include "exposure_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_STRICT = 1, P_STANDARD = 2 };

/* Why an option opens a hardening directive, or NULL when it stays. */
enum opener { OPEN_NEVER, OPEN_OS_MON, OPEN_JIT_PERF, OPEN_BIND_CAPS, OPEN_COUNT };

/* The profiles. Measured with OTP 25 under systemd 252: the JIT double-maps a memfd and so
 * survives MemoryDenyWriteExecute=; the BEAM needs memfd_create (no ~@ipc), AF_NETLINK for
 * inet:getifaddrs, and AF_INET/AF_INET6 to listen. */
static const struct hardening {
    const char *key, *value;
    unsigned profiles;
    enum opener opener;
} HARDENING[] = {
    {"NoNewPrivileges", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectSystem", "strict", P_STRICT, OPEN_NEVER},
    {"ProtectSystem", "full", P_STANDARD, OPEN_NEVER},
    {"ProtectHome", "yes", P_STRICT, OPEN_NEVER},
    {"ProtectHome", "read-only", P_STANDARD, OPEN_NEVER},
    {"PrivateTmp", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"PrivateDevices", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"PrivateUsers", "yes", P_STRICT, OPEN_BIND_CAPS},
    {"PrivateIPC", "yes", P_STRICT, OPEN_NEVER},
    {"PrivateMounts", "yes", P_STRICT, OPEN_NEVER},
    {"ProtectKernelTunables", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectKernelModules", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectKernelLogs", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectControlGroups", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectClock", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectHostname", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectProc", "invisible", P_STRICT, OPEN_NEVER},
    {"ProcSubset", "pid", P_STRICT, OPEN_OS_MON},
    {"RestrictNamespaces", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"RestrictRealtime", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"RestrictSUIDSGID", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"LockPersonality", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"MemoryDenyWriteExecute", "yes", P_STRICT | P_STANDARD, OPEN_JIT_PERF},
    {"RemoveIPC", "yes", P_STRICT, OPEN_NEVER},
    {"KeyringMode", "private", P_STRICT, OPEN_NEVER},
    {"DevicePolicy", "closed", P_STRICT, OPEN_NEVER},
    {"SystemCallArchitectures", "native", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"SystemCallFilter", "@system-service", P_STRICT, OPEN_NEVER},
    {"SystemCallFilter", "~@privileged @resources", P_STRICT, OPEN_NEVER},
    {"SystemCallErrorNumber", "EPERM", P_STRICT, OPEN_NEVER},
    {"CapabilityBoundingSet", "", P_STRICT, OPEN_BIND_CAPS},
    {"RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6 AF_NETLINK", P_STRICT | P_STANDARD,
     OPEN_NEVER},
};

static const char *opened_by(const struct ctx *c, enum opener op)
{
    switch (op) {
    case OPEN_OS_MON:
        return c->o->os_mon ? "os_mon reads /proc beyond the service's own processes" : NULL;
    case OPEN_JIT_PERF:
        return c->o->jit_perf ? "jit_perf: +JPperf true writes executable perf maps" : NULL;
    case OPEN_BIND_CAPS:
        return c->bind_caps ? "a listen port below 1024 needs CAP_NET_BIND_SERVICE in the "
                              "host user namespace"
                            : NULL;
    default:
        return NULL;
    }
}

static unsigned profile_bit(const char *name)
{
    return strcmp(name, "strict") == 0 ? P_STRICT : strcmp(name, "standard") == 0 ? P_STANDARD : 0;
}

/* An option that would open a directive the chosen profile does not have changes nothing. */
static void note_unopened(struct ctx *c, const bool *opened)
{
    struct buf why = {0};
    buf_printf(&why, "the %s profile has nothing it would open", c->o->hardening);
    note_unused(c, "os_mon", c->o->os_mon && !opened[OPEN_OS_MON], buf_str(&why));
    note_unused(c, "jit_perf", c->o->jit_perf && !opened[OPEN_JIT_PERF], buf_str(&why));
    buf_free(&why);
}

/* One directive of the profile for unit file `f`, or its drop when an option opened it. In
 * the chroot ProtectSystem=full becomes strict: full's read-only /usr and /etc would need
 * those paths in the empty root before the binds, and strict's one read-only root adds no
 * restriction there, where every bind is read-only already. */
static void profile_one(struct ctx *c, enum unit_file f, const struct hardening *h, const char *why)
{
    if (why != NULL)
        drop(c, f, SEC_SERVICE, h->key, h->value, why);
    else if (f == UF_SERVICE && c->o->chroot && strcmp(h->key, "ProtectSystem") == 0 &&
             strcmp(h->value, "strict") != 0)
        add(c, f, SEC_SERVICE, h->key, "strict",
            "chroot: the read-only root; full's /usr and /etc entries would need those paths "
            "in the empty root");
    else
        add(c, f, SEC_SERVICE, h->key, h->value, c->o->hardening);
}

/* The profile for unit file `f`; only the service listens, so only it opens for a low port. */
static void apply_profile(struct ctx *c, enum unit_file f, bool *opened)
{
    unsigned bit = profile_bit(c->o->hardening);
    for (size_t i = 0; i < ARRAY_SIZE(HARDENING); i++) {
        const struct hardening *h = &HARDENING[i];
        if ((h->profiles & bit) == 0)
            continue;
        const char *why =
            h->opener == OPEN_BIND_CAPS && f != UF_SERVICE ? NULL : opened_by(c, h->opener);
        opened[h->opener] |= why != NULL;
        profile_one(c, f, h, why);
    }
}

int build_hardening(struct ctx *c)
{
    unsigned bit = profile_bit(c->o->hardening);
    bool opened[OPEN_COUNT] = {false};
    apply_profile(c, UF_SERVICE, opened);
    note_unopened(c, opened);
    if (c->o->chroot && bit == 0)
        add(c, UF_SERVICE, SEC_SERVICE, "PrivateTmp", "yes",
            "chroot: a /tmp of its own inside the empty root");
    if (c->bind_caps) {
        const char *cap = "CAP_NET_BIND_SERVICE";
        const char *why = "listen port below 1024";
        add(c, UF_SERVICE, SEC_SERVICE, "AmbientCapabilities", cap, why);
        if (bit == P_STRICT)
            add(c, UF_SERVICE, SEC_SERVICE, "CapabilityBoundingSet", cap, why);
    }
    imply_private_mounts(c, UF_SERVICE);
    return 0;
}

/* The runtime environment unit runs release code as the service's user: the service's
 * profile, as the options opened it, but nothing for listening. */
void harden_runtime_env(struct ctx *c)
{
    bool opened[OPEN_COUNT] = {false};
    apply_profile(c, UF_RUNTIME_ENV, opened);
    imply_private_mounts(c, UF_RUNTIME_ENV);
}

/* The restart service runs `systemctl restart` as root: systemctl talks to the manager over
 * its private socket, /run/systemd/private, an AF_UNIX socket of root's, so it needs no
 * capability (the manager trusts the peer's UID 0), no network and no writable path. */
static const char *const RESTART_SANDBOX[][2] = {
    {"NoNewPrivileges", "yes"}, {"CapabilityBoundingSet", ""}, {"ProtectSystem", "strict"},
    {"ProtectHome", "yes"},     {"PrivateTmp", "yes"},         {"PrivateDevices", "yes"},
    {"PrivateNetwork", "yes"},
};

/* What every small helper service of a unit (the restart oneshot, epmd) gets after its own
 * settings: it serves the fds or the socket it is given and needs nothing else. */
static const char *const HELPER_SANDBOX[][2] = {
    {"PrivateIPC", "yes"},
    {"PrivateMounts", "yes"},
    {"ProtectKernelTunables", "yes"},
    {"ProtectKernelModules", "yes"},
    {"ProtectKernelLogs", "yes"},
    {"ProtectControlGroups", "yes"},
    {"ProtectClock", "yes"},
    {"ProtectHostname", "yes"},
    {"ProtectProc", "invisible"},
    {"ProcSubset", "pid"},
    {"RestrictNamespaces", "yes"},
    {"RestrictRealtime", "yes"},
    {"RestrictSUIDSGID", "yes"},
    {"LockPersonality", "yes"},
    {"MemoryDenyWriteExecute", "yes"},
    {"RemoveIPC", "yes"},
    {"KeyringMode", "private"},
    {"DevicePolicy", "closed"},
    {"SystemCallArchitectures", "native"},
    {"SystemCallFilter", "@system-service"},
    {"SystemCallFilter", "~@privileged @resources"},
    {"SystemCallErrorNumber", "EPERM"},
    {"RestrictAddressFamilies", "AF_UNIX"},
    {"IPAddressDeny", "any"},
    {"UMask", "0077"},
};

void harden_helper_service(struct ctx *c, enum unit_file f, const char *why)
{
    for (size_t i = 0; i < ARRAY_SIZE(HELPER_SANDBOX); i++)
        add(c, f, SEC_SERVICE, HELPER_SANDBOX[i][0], HELPER_SANDBOX[i][1], why);
}

void harden_restart_service(struct ctx *c)
{
    const char *why =
        "systemctl restart of one unit over the manager's private socket needs no more";
    for (size_t i = 0; i < ARRAY_SIZE(RESTART_SANDBOX); i++)
        add(c, UF_RESTART_SERVICE, SEC_SERVICE, RESTART_SANDBOX[i][0], RESTART_SANDBOX[i][1], why);
    harden_helper_service(c, UF_RESTART_SERVICE, why);
}

/* Ports were checked when the option was set; a port below 1024 needs the bind capability,
 * which opens parts of the profiles, so this is known before anything is built. A port a
 * socket unit listens on is not the service's to bind: it needs neither. */
int resolve_network(struct ctx *c)
{
    const struct strlist *l = &c->o->listen_ports;
    for (size_t i = 0; i < l->n && i < GEN_MAX_PORTS; i++) {
        unsigned long port = strtoul(l->v[i], NULL, 10);
        if (socket_port(c, port)) {
            struct buf why = {0};
            buf_printf(&why, "%lu: a socket unit binds it (sockets), the service does not", port);
            note(c, "listen_ports", buf_str(&why), false);
            buf_free(&why);
            continue;
        }
        c->ports[c->nports++] = port;
        if (port < 1024)
            c->bind_caps = true;
    }
    return 0;
}

static int check_ip_list(struct ctx *c, const char *key, const struct strlist *l)
{
    static const char *const words[] = {"any", "localhost", "link-local", "multicast", NULL};
    for (size_t i = 0; i < l->n; i++) {
        const char *a = l->v[i];
        if (!one_of(a, words) &&
            (a[0] == '\0' || strspn(a, "0123456789abcdefABCDEF:./") != strlen(a)))
            return fail(c, key, a, "is not an address, prefix or keyword");
    }
    return 0;
}

/* cluster_peers: the peers, and the loopback for the remote console and rpc. */
static void build_peers(struct ctx *c)
{
    const struct strlist *p = &c->o->cluster_peers;
    if (p->n == 0 || !dist_on(c))
        return;
    add(c, UF_SERVICE, SEC_SERVICE, "IPAddressAllow", "localhost",
        "cluster_peers: bin/app remote and rpc from this host");
    for (size_t i = 0; i < p->n; i++)
        add(c, UF_SERVICE, SEC_SERVICE, "IPAddressAllow", p->v[i],
            "cluster_peers: the other nodes");
    note(c, "cluster_peers",
         "IPAddressDeny=any: the service reaches and is reached by the loopback, the peers and "
         "ip_address_allow only, the app's own clients included: list them in ip_address_allow",
         false);
}

static int build_ip_allow(struct ctx *c)
{
    const struct strlist *l = &c->o->ip_address_allow;
    int r = check_ip_list(c, "ip_address_allow", l);
    if (r == 0)
        r = check_ip_list(c, "cluster_peers", &c->o->cluster_peers);
    if (r < 0)
        return r;
    if (denies_all_ip(c))
        add(c, UF_SERVICE, SEC_SERVICE, "IPAddressDeny", "any",
            "private_network with sockets: what reaches the service comes through its sockets, "
            "which its own IP access list does not filter; every address is denied to what it "
            "opens itself, loopback included");
    bool peers = dist_on(c) && c->o->cluster_peers.n > 0;
    if (l->n == 0 && !peers)
        return 0;
    add(c, UF_SERVICE, SEC_SERVICE, "IPAddressDeny", "any",
        l->n > 0 ? "ip_address_allow" : "cluster_peers");
    for (size_t i = 0; i < l->n; i++)
        add(c, UF_SERVICE, SEC_SERVICE, "IPAddressAllow", l->v[i], "ip_address_allow");
    build_peers(c);
    return 0;
}

/* Distribution pins its port and allows binding only that one and the listen ports. The deny rule
 * is every positive port, not `any`: systemd's `any` rule also matches port 0 (socket-bind.bpf.c
 * matches every port of a rule without ports), and an allow rule cannot name port 0, so `any` would
 * refuse the kernel-chosen port that OTP binds for every outgoing TCP connection and UDP socket
 * (inet:open binds {Ip, 0}), DNS lookups by inet_res included. A kernel-chosen port is not one a
 * peer can know, so allowing it opens no fixed port. */
static void build_socket_bind(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    const char *why = "distribution: dist_port";
    struct buf v = {0};
    buf_printf(&v, "tcp:%lu", o->dist_port);
    add(c, UF_SERVICE, SEC_SERVICE, "SocketBindAllow", buf_str(&v), why);
    for (size_t i = 0; i < c->nports; i++) {
        buf_free(&v);
        buf_printf(&v, "tcp:%lu", c->ports[i]);
        add(c, UF_SERVICE, SEC_SERVICE, "SocketBindAllow", buf_str(&v), "listen_ports");
    }
    add(c, UF_SERVICE, SEC_SERVICE, "SocketBindDeny", "1-65535",
        "distribution: every fixed port not allowed above; port 0 (a port the kernel picks, "
        "for outgoing connections, DNS and the host name) stays allowed");
    buf_free(&v);
    if (!has_build_feature(c, SDB_BPF_FRAMEWORK))
        note(c, "distribution",
             "the target's systemd is built without BPF_FRAMEWORK, so binding is not "
             "restricted (SocketBindAllow=/SocketBindDeny= dropped); the distribution port is "
             "pinned by the VM's flags only",
             false);
}

/* Listen ports matter for the bind capability (below 1024) and for socket binding (with
 * distribution). */
static void note_unused_ports(struct ctx *c, bool fixed)
{
    bool unused = !fixed && !c->bind_caps;
    note_unused(c, "listen_ports", unused && c->nsocks == 0,
                "only ports below 1024 (the bind capability) or distribution "
                "(SocketBindAllow=) use it");
    note_unused(c, "listen_ports", (unused || c->nports == 0) && c->nsocks > 0,
                "only ports below 1024 (the bind capability) or distribution "
                "(SocketBindAllow=) use it, and neither for a port of sockets, which the "
                "service does not bind");
}

int build_network(struct ctx *c)
{
    bool fixed = dist_on(c);
    if (c->o->private_network)
        add(c, UF_SERVICE, SEC_SERVICE, "PrivateNetwork", "yes", "private_network");
    note_unused_ports(c, fixed);
    if (fixed)
        build_socket_bind(c);
    int r = build_dist_credentials(c);
    return r == 0 ? build_ip_allow(c) : r;
}

/* The umask classes `systemd-analyze security` tells apart: the first of world-writable,
 * world-readable, group-writable, group-readable that files are, counted from the good end. */
static unsigned umask_class(const char *umask)
{
    unsigned long u = strtoul(umask, NULL, 8);
    if ((u & 02) == 0)
        return 4;
    if ((u & 04) == 0)
        return 3;
    if ((u & 020) == 0)
        return 2;
    return (u & 040) == 0 ? 1 : 0;
}

/* The IP access list classes it tells apart: none, only the loopback prefixes, anything else,
 * every address denied. */
static unsigned ip_class(const struct ctx *c)
{
    static const char *const loopback[] = {"localhost", "127.0.0.0/8", "::1", "::1/128", NULL};
    const struct strlist *allow = &c->o->ip_address_allow;
    for (size_t i = 0; i < allow->n; i++)
        if (!one_of(allow->v[i], loopback))
            return EXP_IP_OTHER;
    for (size_t i = 0; dist_on(c) && i < c->o->cluster_peers.n; i++)
        if (!one_of(c->o->cluster_peers.v[i], loopback))
            return EXP_IP_OTHER;
    if (dist_on(c) && c->o->cluster_peers.n > 0)
        return EXP_IP_LOCALHOST;
    if (allow->n > 0)
        return EXP_IP_LOCALHOST;
    return denies_all_ip(c) ? EXP_IP_DENY_ALL : EXP_IP_NONE;
}

static unsigned exposure_bits(const struct ctx *c)
{
    const struct gen_opts *o = c->o;
    return (c->bind_caps ? EXP_BIND_CAPS : 0) | (o->private_network ? EXP_PRIVATE_NETWORK : 0) |
           (o->dynamic_user ? EXP_DYNAMIC_USER : 0) | (o->chroot ? EXP_CHROOT : 0) |
           (o->os_mon ? EXP_OS_MON : 0) | (o->jit_perf ? EXP_JIT_PERF : 0);
}

/* The systemd versions whose `systemd-analyze security --offline=true` scored a table, oldest
 * first, with the scores of the restart service's and epmd's sandboxes, which are fixed. */
static const struct {
    unsigned version;
    const unsigned char (*table)[EXPOSURE_ENTRIES];
    unsigned char restart, epmd;
} SCORED[EXPOSURE_SCORED] = {
    {252, EXPOSURE_TABLE_252, 7, 2},
    {257, EXPOSURE_TABLE_257, 7, 2},
};

unsigned exposure_scored_version(size_t scored)
{
    return SCORED[scored].version;
}

size_t exposure_scored_for(unsigned systemd_version)
{
    size_t i = 0;
    while (i + 1 < EXPOSURE_SCORED && SCORED[i + 1].version <= systemd_version)
        i++;
    return i;
}

/* Expected `systemd-analyze security --offline=true` exposure of unit file `f` in tenths, as
 * the systemd of SCORED[scored] measures it, -1 when unknown: for targets before
 * SD_EXPOSURE_MEASURED (not every directive of the profiles) or without seccomp. The runtime
 * environment unit has the profile as the options opened it, no listening, no network
 * settings, no chroot and UMask=0077. */
int exposure_tenths(const struct ctx *c, enum unit_file f, size_t scored)
{
    unsigned bit = profile_bit(c->o->hardening);
    unsigned p = bit == P_STRICT ? 0 : bit == P_STANDARD ? 1 : 2;
    unsigned bits = exposure_bits(c);
    const unsigned char(*table)[EXPOSURE_ENTRIES] = SCORED[scored].table;
    if (!has_feature(c, SD_EXPOSURE_MEASURED) || !has_build_feature(c, SDB_SECCOMP))
        return -1;
    if (f == UF_RESTART_SERVICE)
        return SCORED[scored].restart;
    if (f == UF_EPMD_SERVICE)
        return SCORED[scored].epmd;
    if (f == UF_RUNTIME_ENV)
        return table[p][bits & (EXP_DYNAMIC_USER | EXP_OS_MON | EXP_JIT_PERF)];
    unsigned cls = umask_class(c->o->umask) * EXPOSURE_IPS + ip_class(c);
    unsigned char tenths = table[p][cls * EXPOSURE_COMBOS + bits];
    return tenths == EXPOSURE_UNMEASURED ? -1 : tenths;
}
