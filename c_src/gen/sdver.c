#include "sdver.h"

#include "buf.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* First systemd version of each directive (or directive=value) the generator writes, from
 * systemd's NEWS. Directives older than the oldest target (SD_OLDEST) are not listed. */
static const struct {
    const char *key;
    unsigned since;
} SINCE[] = {
    {"Type=exec", 240},
    {"Type=notify-reload", 253},
    {"FileDescriptorName", 227},
    {"AmbientCapabilities", 229},
    {"StartLimitIntervalSec", 230},
    {"MemoryDenyWriteExecute", 231},
    {"RestrictRealtime", 231},
    {"DynamicUser", 232},
    {"ProtectKernelTunables", 232},
    {"ProtectKernelModules", 232},
    {"ProtectControlGroups", 232},
    {"PrivateUsers", 232},
    {"RemoveIPC", 232},
    {"ProtectSystem=strict", 232},
    {"RestrictNamespaces", 233},
    {"BindReadOnlyPaths", 233},
    {"BindPaths", 233},
    {"MountAPIVFS", 233},
    {"StateDirectory", 235},
    {"CacheDirectory", 235},
    {"LogsDirectory", 235},
    {"ConfigurationDirectory", 235},
    {"StateDirectoryMode", 235},
    {"CacheDirectoryMode", 235},
    {"LogsDirectoryMode", 235},
    {"ConfigurationDirectoryMode", 235},
    {"RuntimeDirectoryPreserve", 235},
    {"LockPersonality", 235},
    {"KeyringMode", 235},
    {"IPAddressDeny", 235},
    {"IPAddressAllow", 235},
    {"TemporaryFileSystem", 238},
    {"PrivateMounts", 239},
    {"SystemCallFilter=@system-service", 239},
    {"SystemCallFilter=~@privileged @resources", 239},
    {"ProtectHostname", 242},
    {"RestrictSUIDSGID", 242},
    {"ProtectKernelLogs", 244},
    {"ProtectClock", 245},
    {"LogRateLimitIntervalSec", 240},
    {"LogRateLimitBurst", 240},
    {"LoadCredential", 247},
    {"SetCredential", 247},
    {"LoadCredentialEncrypted", 250},
    {"ProtectProc", 247},
    {"ProcSubset", 247},
    {"PrivateIPC", 248},
    {"SocketBindAllow", 249},
    {"SocketBindDeny", 249},
    {"FileDescriptorStorePreserve", 254},
    {"MemoryPressureWatch", 254},
    {"MemoryPressureThresholdSec", 254},
};

/* The version facts that are not directives, from systemd's NEWS and sources. */
static const unsigned FEATURES[SD_FEATURE_COUNT] = {
    [SD_OLDEST] = 219,
    [SD_NEWEST] = 999,
    [SD_EXEC_PREFIX_PLUS] = 231,
    [SD_EXEC_PREFIX_BANG] = 236,
    /* PrivateIPC= of the strict profile is the newest directive of the profiles. */
    [SD_EXPOSURE_MEASURED] = 248,
    /* Environment values: a tab always passed the manager's check, a newline from 239 (for
     * all environment sources), every other control character from 248. */
    [SD_ENV_TAB] = 219,
    [SD_ENV_NEWLINE] = 239,
    [SD_ENV_CONTROL] = 248,
    /* BindReadOnlyPaths= and MountAPIVFS= from 233, StateDirectory= and the other managed
     * dirs, which systemd binds into a RootDirectory=, from 235. */
    [SD_CHROOT] = 235,
};

unsigned feature_since(enum sd_feature f)
{
    return FEATURES[f];
}

unsigned directive_since(const char *key, const char *value)
{
    size_t klen = strlen(key);
    unsigned since = 0;
    for (size_t i = 0; i < ARRAY_SIZE(SINCE); i++) {
        const char *k = SINCE[i].key;
        bool match = strcmp(k, key) == 0 || (value != NULL && strncmp(k, key, klen) == 0 &&
                                             k[klen] == '=' && strcmp(k + klen + 1, value) == 0);
        if (match && SINCE[i].since > since)
            since = SINCE[i].since;
    }
    return since;
}

/* A directive is enforced when the target is new enough (above) and its systemd was built
 * with the feature it needs. From systemd's sources: without seccomp the settings below are
 * parsed as "not supported on this system" and ignored (load-fragment-gperf.gperf.in); without
 * the BPF framework (libbpf) socket binding, file system and network interface restrictions
 * find no BPF support at start and are silently ignored (bpf-socket-bind.c, bpf-lsm.c,
 * bpf-restrict-ifaces.c). IPAddressAllow=/Deny= use cgroup BPF programs systemd assembles
 * itself (bpf-firewall.c) and need no such feature. */
static const struct {
    const char *key;
    enum sd_build_feature needs;
} NEEDS[] = {
    {"SystemCallFilter", SDB_SECCOMP},          {"SystemCallArchitectures", SDB_SECCOMP},
    {"SystemCallErrorNumber", SDB_SECCOMP},     {"SystemCallLog", SDB_SECCOMP},
    {"MemoryDenyWriteExecute", SDB_SECCOMP},    {"RestrictNamespaces", SDB_SECCOMP},
    {"RestrictRealtime", SDB_SECCOMP},          {"RestrictSUIDSGID", SDB_SECCOMP},
    {"RestrictAddressFamilies", SDB_SECCOMP},   {"LockPersonality", SDB_SECCOMP},
    {"SocketBindAllow", SDB_BPF_FRAMEWORK},     {"SocketBindDeny", SDB_BPF_FRAMEWORK},
    {"RestrictFileSystems", SDB_BPF_FRAMEWORK}, {"RestrictNetworkInterfaces", SDB_BPF_FRAMEWORK},
};

static const char *const FEATURE_NAMES[SDB_COUNT] = {
    [SDB_SECCOMP] = "SECCOMP",
    [SDB_BPF_FRAMEWORK] = "BPF_FRAMEWORK",
};

/* `systemctl --version` on Debian 12 (systemd 252.x-1~deb12u*). */
const char SD_DEFAULT_FEATURES[] =
    "+PAM +AUDIT +SELINUX +APPARMOR +IMA +SMACK +SECCOMP +GCRYPT -GNUTLS +OPENSSL +ACL +BLKID "
    "+CURL +ELFUTILS +FIDO2 +IDN2 -IDN +IPTC +KMOD +LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY "
    "+P11KIT +QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB +ZSTD -BPF_FRAMEWORK -XKBCOMMON +UTMP "
    "+SYSVINIT default-hierarchy=unified";

const char *build_feature_name(enum sd_build_feature f)
{
    return f < SDB_COUNT ? FEATURE_NAMES[f] : "";
}

enum sd_build_feature directive_needs(const char *key)
{
    for (size_t i = 0; i < ARRAY_SIZE(NEEDS); i++)
        if (strcmp(NEEDS[i].key, key) == 0)
            return NEEDS[i].needs;
    return SDB_NONE;
}

/* One word of a feature string: +NAME or -NAME (NAME of [A-Z0-9_], features this table does not
 * know are accepted and change nothing), or key=value such as default-hierarchy=unified. */
static int feature_word(const char *w, size_t n, unsigned *mask)
{
    const char *eq = memchr(w, '=', n);
    if (eq != NULL && eq != w && eq + 1 < w + n)
        return 0;
    if (n < 2 || (w[0] != '+' && w[0] != '-'))
        return -EINVAL;
    for (size_t i = 1; i < n; i++)
        if (!((w[i] >= 'A' && w[i] <= 'Z') || (w[i] >= '0' && w[i] <= '9') || w[i] == '_'))
            return -EINVAL;
    for (unsigned f = 0; f < SDB_COUNT; f++) {
        if (strlen(FEATURE_NAMES[f]) != n - 1 || strncmp(FEATURE_NAMES[f], w + 1, n - 1) != 0)
            continue;
        if (w[0] == '+')
            *mask |= 1U << f;
        else
            *mask &= ~(1U << f);
    }
    return 0;
}

static int features_over(const char *s, unsigned *mask, char **bad)
{
    for (const char *p = s + strspn(s, " \t"); *p; p += strspn(p, " \t")) {
        size_t n = strcspn(p, " \t");
        if (feature_word(p, n, mask) < 0) {
            *bad = xstrndup(p, n);
            return -EINVAL;
        }
        p += n;
    }
    return 0;
}

int parse_build_features(const char *s, unsigned *mask, char **bad)
{
    *mask = 0;
    *bad = NULL;
    int r = features_over(SD_DEFAULT_FEATURES, mask, bad);
    return r < 0 ? r : features_over(s, mask, bad);
}
