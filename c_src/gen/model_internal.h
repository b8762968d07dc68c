/* The model's parts share one build context. The parts, by the question they answer:
 *   model.c      the core: context, add/drop/refuse, checks across keys, build order
 *   names.c      names, paths, dirs and @{key} references
 *   exec_env.c   ExecStart=/ExecStartPre= command lines and Environment=
 *   hardening.c  hardening profiles, network, socket binding, exposure
 *   sandbox.c    sandbox paths, the chroot, implied PrivateMounts=
 *   sockets.c    socket units, their ties to the service, the fd store
 *   cluster.c    Erlang distribution: modes, node name, cookie, TLS, the epmd companion
 *   sections.c   [Unit] and [Service] basics, companion units and files
 *   overrides.c  the user's override and drop values, applied last
 *   sdver.c      what each systemd version knows
 * Not for the renderer or the CLI, which see only model.h. */
#ifndef VIGIL_GEN_MODEL_INTERNAL_H
#define VIGIL_GEN_MODEL_INTERNAL_H

#include "escape.h"
#include "model.h"
#include "sdver.h"
#include "sockspec.h"

#include <stdbool.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Names and paths after defaults are derived; all validated. */
struct names {
    const char *app, *release, *ext, *svc, *user, *group, *deploy_user, *deploy_group;
    const char *deploy, *current, *working, *desc, *syslog, *env_script;
};

/* `distribution`, in the order of its choices. */
enum dist_mode { DIST_NONE, DIST_LOCAL, DIST_EPMDLESS, DIST_EPMD_SOCKET, DIST_TLS };

struct ctx {
    const struct gen_opts *o;
    struct unit_model *m;
    struct buf *err;
    struct names n;
    struct strlist dirs; /**< the dirs kinds: the defaults, plus and minus `dirs` */
    char *derived[16];
    size_t nderived;
    /* Resolved before anything is built (resolve_network), read by the builders. */
    unsigned long ports[GEN_MAX_PORTS];
    size_t nports;
    struct sock_spec *socks; /**< `sockets`, parsed (resolve_sockets) */
    size_t nsocks;
    bool bind_caps;   /**< a listen port below 1024 */
    bool env_service; /**< the runtime environment service: asked for, or implied by its script */
    bool mix_layout;  /**< layout = mix_systemd */
    bool exposure_unknown; /**< an override or drop changed an assessed directive */
    enum dist_mode dist;   /**< resolve_distribution */
    const char *node;      /**< the node name's part before @ */
    unsigned char dist_ip[4];
};

/* model.c */
int fail(struct ctx *c, const char *key, const char *value, const char *problem);
int fail_number(struct ctx *c, const char *key, unsigned long value, const char *problem);
const char *derive(struct ctx *c, const char *given, const char *fallback);
void add(struct ctx *c, enum unit_file f, enum unit_section s, const char *key, const char *value,
         const char *reason);
void drop(struct ctx *c, enum unit_file f, enum unit_section s, const char *key, const char *value,
          const char *reason);
void addf(struct ctx *c, enum unit_section s, const char *key, const char *reason, bool octal,
          unsigned long v);
void addf_to(struct ctx *c, enum unit_file f, const char *key, const char *reason,
             unsigned long mode);
void add_raw(struct ctx *c, enum unit_section s, const char *key, const char *value,
             const char *reason);
void note_unused(struct ctx *c, const char *key, bool unused, const char *reason);
/** A note for the manifest; `warn` also prints it when generating. */
void note(struct ctx *c, const char *key, const char *text, bool warn);
bool knows(const struct ctx *c, const char *key, const char *value);
bool has_feature(const struct ctx *c, enum sd_feature f);
bool has_build_feature(const struct ctx *c, enum sd_build_feature f);
/** "`what` needs systemd N" with N the first version knowing `key`(=`value`); caller frees. */
char *needs_reason(const char *what, const char *key, const char *value);

/* names.c */
bool app_name_valid(const char *s);
int resolve_names(struct ctx *c);
int resolve_paths(struct ctx *c);
int expand_refs(struct ctx *c, const char *key, const char *s, bool dollar, struct buf *out);
int path_value(struct ctx *c, const char *key, const char *raw, bool dash, bool dollar,
               struct buf *out);
void dir_path(const struct ctx *c, const char *kind, struct buf *out);
int resolve_dirs(struct ctx *c);
bool has_dir(const struct ctx *c, const char *kind);
int build_dirs(struct ctx *c);
int build_dir_env(struct ctx *c);

/* exec_env.c */
int build_exec_pre(struct ctx *c);
int build_exec_start(struct ctx *c);
void set_env(struct ctx *c, const char *name, const char *value, const char *reason);
/** set_env() for a value without escapes: `%` is written as `%%`. */
void set_env_literal(struct ctx *c, const char *name, const char *value, const char *reason);
int build_env(struct ctx *c);

/* hardening.c */
int resolve_network(struct ctx *c);
int build_hardening(struct ctx *c);
void harden_runtime_env(struct ctx *c);
void harden_restart_service(struct ctx *c);

/** Adds the sandbox every small helper service (restart oneshot, epmd) shares, after its own
 * settings, to unit file `f`. */
void harden_helper_service(struct ctx *c, enum unit_file f, const char *why);
int build_network(struct ctx *c);
/** The systemd version of exposure table `scored` (0 .. EXPOSURE_SCORED - 1, oldest first). */
unsigned exposure_scored_version(size_t scored);
/** The table a target's figures come from: the newest scored version not newer than
 * `systemd_version`, else the oldest. */
size_t exposure_scored_for(unsigned systemd_version);
/** Unit file `f`'s expected exposure in tenths as table `scored` gives it, -1 when unknown. */
int exposure_tenths(const struct ctx *c, enum unit_file f, size_t scored);

/* sandbox.c */
int build_paths(struct ctx *c);
void chroot_root(const struct ctx *c, struct buf *out);
void imply_private_mounts(struct ctx *c, enum unit_file f);

/* sections.c */
int build_unit_section(struct ctx *c);
int start_limit(struct ctx *c);
int build_process(struct ctx *c);
int build_identity(struct ctx *c);
int build_companion_files(struct ctx *c);
void restart_flag(const struct ctx *c, struct buf *out);
int build_restart_units(struct ctx *c);
int build_runtime_env_unit(struct ctx *c);

/* sockets.c */
int resolve_sockets(struct ctx *c);
int build_sockets(struct ctx *c);
bool socket_port(const struct ctx *c, unsigned long port);
bool denies_all_ip(const struct ctx *c);

/* cluster.c */
bool dist_on(const struct ctx *c);
void credentials_dir(const struct ctx *c, struct buf *out);
int resolve_distribution(struct ctx *c);
void build_dist_env(struct ctx *c, struct buf *flags);
int build_dist_credentials(struct ctx *c);
void build_dist_unit(struct ctx *c);
int build_epmd_units(struct ctx *c);

/* overrides.c */
int apply_user_changes(struct ctx *c);

#endif
