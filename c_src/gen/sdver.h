/* What each systemd version knows, in one place: the first version of every directive the
 * generator writes and of the few other behaviours it relies on. Supporting a new systemd
 * release is an edit of the tables in sdver.c. */
#ifndef VIGIL_GEN_SDVER_H
#define VIGIL_GEN_SDVER_H

/** Version facts that are not a directive of their own. */
enum sd_feature {
    SD_OLDEST,            /**< oldest target version the generator supports */
    SD_NEWEST,            /**< highest version number accepted as a target */
    SD_EXEC_PREFIX_PLUS,  /**< `+` command prefix: full privileges */
    SD_EXEC_PREFIX_BANG,  /**< `!` and `!!` command prefixes: no user change */
    SD_EXPOSURE_MEASURED, /**< targets from here get every directive of the profiles, so the
                               exposure score measured with systemd 252 applies */
    SD_ENV_TAB,           /**< a tab in an environment value */
    SD_ENV_NEWLINE,       /**< a newline in an environment value */
    SD_ENV_CONTROL,       /**< any control character in an environment value */
    SD_CHROOT,            /**< chroot: BindReadOnlyPaths= and dirs systemd manages and binds */
    SD_FEATURE_COUNT
};

/** Compile-time features of a systemd build that decide whether a directive is enforced, named
 * as `systemctl --version` prints them. */
enum sd_build_feature {
    SDB_SECCOMP,       /**< seccomp filters: SystemCallFilter= and the settings built on it */
    SDB_BPF_FRAMEWORK, /**< libbpf programs: SocketBindAllow=/Deny=, RestrictFileSystems=, ... */
    SDB_COUNT,
    SDB_NONE = SDB_COUNT
};

/** The feature string of the default target, Debian 12's systemd 252. */
extern const char SD_DEFAULT_FEATURES[];

/** Name of feature `f` as `systemctl --version` prints it. */
const char *build_feature_name(enum sd_build_feature f);

/** The build feature `key` needs to be enforced, or SDB_NONE. */
enum sd_build_feature directive_needs(const char *key);

/** Reads a feature string as `systemctl --version` prints it (`+SECCOMP -BPF_FRAMEWORK ...`)
 * over the default target's features into a mask of (1 << feature); a feature the string does
 * not name keeps the default. Returns 0, or -EINVAL with `*bad` set to the offending word
 * (which the caller frees). */
int parse_build_features(const char *s, unsigned *mask, char **bad);

/** First systemd version that knows `key` (or `key=value` when listed so), 0 if older than
 * any supported target. */
unsigned directive_since(const char *key, const char *value);

/** First systemd version with feature `f` (for SD_NEWEST: the highest accepted). */
unsigned feature_since(enum sd_feature f);

#endif
