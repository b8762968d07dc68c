#include "sdver.h"

#include <stdbool.h>
#include <stddef.h>
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
    {"LoadCredential", 247},
    {"ProtectProc", 247},
    {"ProcSubset", 247},
    {"PrivateIPC", 248},
    {"SocketBindAllow", 249},
    {"SocketBindDeny", 249},
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
