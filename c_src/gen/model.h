/* The unit model: every directive of every generated unit, with why it is there or why it
 * was left out, plus the companion sysusers.d and tmpfiles.d lines. Values are stored already
 * escaped for their context, so rendering is plain concatenation. */
#ifndef VIGIL_GEN_MODEL_H
#define VIGIL_GEN_MODEL_H

#include "buf.h"
#include "exposure_table.h"
#include "opts.h"

/** Most override and drop values together. */
#define GEN_MAX_USER_KEYS 64

/** The unit files the generator can write; UF_SOCKET stands for every socket unit, one per
 * `sockets` value, told apart by the directive's `part`. */
enum unit_file {
    UF_SERVICE,
    UF_RESTART_PATH,
    UF_RESTART_SERVICE,
    UF_RUNTIME_ENV,
    UF_SOCKET,
    UF_EPMD_SOCKET,
    UF_EPMD_SERVICE,
    UF_COUNT
};

/** Sections of a unit file, in output order. */
enum unit_section { SEC_UNIT, SEC_SERVICE, SEC_PATH, SEC_SOCKET, SEC_INSTALL, SEC_COUNT };

/** emitted: written as is; gated: written in the form the target version knows;
 * dropped: left out, for the target version or because an option opened it. */
enum directive_status { DS_EMITTED, DS_GATED, DS_DROPPED };

/** One directive of one unit file. */
struct directive {
    enum unit_file file;
    unsigned part; /**< for UF_SOCKET: the index of the socket unit in unit_model.sockets */
    enum unit_section section;
    const char *key;
    char *value;
    unsigned since;
    enum directive_status status;
    bool too_new; /**< dropped because the target systemd lacks it: too old, or built without
                       the feature it needs (not enforced there) */
    char *reason;
};

/** A key that was given but changed nothing in the output, and why. */
struct unused_key {
    const char *key;
    char *reason;
};

/** Something about the result worth knowing; a warning is also printed when generating. */
struct note {
    const char *key;
    char *text;
    bool warn;
};

/** A socket unit and the socket it passes, for the manifest. */
struct unit_socket {
    char *unit;   /**< file name, e.g. "foo.socket" */
    char *name;   /**< FileDescriptorName= */
    char *listen; /**< ListenStream= as given (unescaped) */
};

/** Everything the writer needs. */
struct unit_model {
    char *service;   /**< service name, without .service */
    char *app_name;  /**< for the manifest */
    char *version;   /**< release version, may be empty */
    char *hardening; /**< profile name */
    unsigned systemd_version;
    unsigned features; /**< the target's build features, a mask of 1 << enum sd_build_feature */
    bool mix_layout;   /**< files in lib/systemd/system/ and lib/, as mix_systemd writes them */
    bool has_file[UF_COUNT];
    struct directive *d;
    size_t n;
    struct buf sysusers; /**< empty when no user is created */
    struct buf tmpfiles;
    int exposure_tenths;         /**< expected `systemd-analyze security` score times ten */
    int unit_exposure[UF_COUNT]; /**< the same for each service unit written, -1: none */
    unsigned exposure_scored_by; /**< the systemd version whose scoring the two above are */
    unsigned exposure_versions[EXPOSURE_SCORED]; /**< every version with a table, oldest first */
    int exposure_by_version[EXPOSURE_SCORED];    /**< the service's score under each, -1: none */
    struct unused_key *unused; /**< given keys that other settings made moot, for the manifest */
    size_t n_unused;
    struct note *notes; /**< for the manifest; warnings also go to stderr */
    size_t n_notes;
    char *user_keys[GEN_MAX_USER_KEYS]; /**< directive names only an override brought */
    size_t n_user_keys;
    struct unit_socket *sockets; /**< the socket units, in `sockets` order */
    size_t n_sockets;
    unsigned long socket_backlog; /**< Backlog= of every socket unit, 0: systemd's default */
    unsigned long fd_store_max;   /**< FileDescriptorStoreMax= as written, 0 when not */
};

/** Builds the model from validated-on-the-way options. Returns 0, or -EINVAL with one
 * message naming the key, the value and the problem in `err`; nothing is half-built then. */
int unit_model_build(const struct gen_opts *o, struct unit_model *m, struct buf *err);

/** Frees the model. */
void unit_model_free(struct unit_model *m);

/** File name of a unit file for service `svc`, e.g. "foo-restart.path"; for UF_SOCKET the
 * first socket unit's. */
void unit_file_name(struct buf *out, enum unit_file f, const char *svc);

/** File name of the unit file directive `d` belongs to. */
void directive_file_name(const struct unit_model *m, const struct directive *d, struct buf *out);

/** True for the service units, which `systemd-analyze security` assesses. */
bool unit_file_is_service(enum unit_file f);

#endif
