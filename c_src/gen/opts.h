/* The generator's settings: one struct with defaults, filled from a config file and the
 * command line. Every setting is a key; `app_name` on the command line is `--app-name`. */
#ifndef VIGIL_GEN_OPTS_H
#define VIGIL_GEN_OPTS_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

/** Upper bound of the number of keys, for the per-key arrays below. */
#define GEN_OPT_MAX 96

/** Most ports a port list (listen_ports) may hold. */
#define GEN_MAX_PORTS 64

/** Most sockets (socket units) `sockets` may hold. */
#define GEN_MAX_SOCKETS 16

/** Where a key's current value came from; a list given again from a later source replaces. */
enum opt_origin { ORIGIN_DEFAULT, ORIGIN_CONFIG, ORIGIN_CLI };

/** All settings. NULL strings are derived from other keys when the model is built. */
struct gen_opts {
    char *app_name, *release_name, *ext_name, *service_name, *version, *description;
    char *app_user, *app_group, *deploy_user, *deploy_group;
    bool dynamic_user;
    char *base_dir, *deploy_dir, *current_dir, *working_dir;
    char *release_tool, *start_command, *service_type, *hardening, *restart, *restart_method,
        *crash_dump;
    char *reload, *layout, *memory_pressure_watch;
    char *distribution, *cookie_file, *syslog_identifier, *umask, *runtime_directory_preserve;
    char *dist_address, *node_name, *epmd_path;
    char *exec_start_wrap, *runtime_environment_service_script, *systemd_features;
    bool network_online, chroot, runtime_environment_service, os_mon, jit_perf;
    bool private_network;
    unsigned long systemd_version, watchdog_sec, timeout_start_sec, shutdown_time;
    unsigned long timeout_stop_sec, restart_sec, start_limit_burst, start_limit_interval_sec;
    unsigned long limit_nofile, dist_port, fd_store_max, socket_backlog;
    unsigned long log_rate_limit_interval_sec, log_rate_limit_burst, memory_pressure_threshold_ms;
    unsigned long runtime_directory_mode, configuration_directory_mode, state_directory_mode;
    unsigned long cache_directory_mode, logs_directory_mode;
    struct strlist dirs, env_vars, env_files, exec_start_pre, read_write_paths, read_only_paths;
    struct strlist inaccessible_paths, unit_after, unit_wants, unit_requires, listen_ports;
    struct strlist ip_address_allow, cluster_peers, credentials, encrypted_credentials, override;
    struct strlist drop, sockets;
    enum opt_origin origin[GEN_OPT_MAX]; /**< per key, index for index with GEN_OPT_DEFS */
};

/** How a key's value is read. OPT_PORTS is a list of TCP ports 1..65535, OPT_SOCKETS a list
 * of NAME=LISTEN sockets (sockspec.h) with distinct names and addresses. */
enum opt_kind { OPT_STR, OPT_BOOL, OPT_UINT, OPT_MODE, OPT_LIST, OPT_PORTS, OPT_SOCKETS };

/** One key of the table that drives parsing, `--help` and the model's error messages. */
struct opt_def {
    const char *key;
    enum opt_kind kind;
    size_t offset;
    const char *help;
    const char *const *choices; /**< NULL-terminated allowed values (string or list items) */
};

/** The dirs every service gets unless `dirs` removes them, NULL-terminated. */
extern const char *const GEN_DEFAULT_DIRS[];

/** The key table, terminated by an entry with a NULL key. */
extern const struct opt_def GEN_OPT_DEFS[];

/** Fills `o` with the defaults; strings become owned copies. */
void gen_opts_init(struct gen_opts *o);

/** Frees every owned string and list. */
void gen_opts_free(struct gen_opts *o);

/** Finds a key, accepting `-` for `_`; NULL when unknown. */
const struct opt_def *gen_opt_find(const char *key);

/** The key (or one of `extra`, NULL-terminated) the misspelt or abbreviated `name` most likely
 * meant, in underscore form: a key that `name` begins, else the nearest by edit distance when
 * it is close; NULL when none is. `-` and `_` are the same. */
const char *gen_opt_nearest(const char *name, const char *const *extra);

/** Sets `key` to `value` from `origin`, checked against the key's type and choices. Returns 0,
 * or -EINVAL with a message naming the key, the value and the problem appended to `err`. */
int gen_opt_set(struct gen_opts *o, const struct opt_def *def, const char *value,
                enum opt_origin origin, struct buf *err);

/** True when `key` was set by a config file or the command line. */
bool gen_opt_given(const struct gen_opts *o, const char *key);

/** Reads `key = value` lines (`#` comments, repeated keys append to lists, a value may be
 * double-quoted to keep edge spaces). Returns 0 or -errno with the reason in `err`. */
int gen_opts_read_config(struct gen_opts *o, const char *text, const char *name, struct buf *err);

/** Writes the `--help` text listing every key and its default. */
void gen_opts_help(struct buf *out);

/** Writes one `key<TAB>kind` line per key (kind: string, bool, number, mode, list), for tools
 * that pass settings on, such as the mix task. */
void gen_opts_kinds(struct buf *out);

/** True for a key that takes a list (repeated, replaced as a whole by a later source). */
bool gen_opt_is_list(const struct opt_def *def);

/** Number of keys in GEN_OPT_DEFS. */
size_t gen_opt_count(void);

/** Whether v is one of the strings of the NULL-terminated set. */
bool one_of(const char *v, const char *const *set);

#endif
