/* The expected exposure of every combination of the settings `systemd-analyze security`
 * assesses differently, per profile, measured by test/gen/exposure.py (the score is a rounded
 * weighted sum, so options do not add up in tenths), once per systemd version that scored it:
 * newer versions assess more settings, so one unit scores differently under each. */
#ifndef VIGIL_GEN_EXPOSURE_TABLE_H
#define VIGIL_GEN_EXPOSURE_TABLE_H

/** Index: the option bits, plus EXPOSURE_COMBOS times (umask class * EXPOSURE_IPS + IP
 * class). Umask classes: 0 (0077-like) .. 4 (world-writable); IP classes: the EXP_IP_* of the
 * service's IPAddressDeny=/IPAddressAllow=. */
enum {
    EXP_BIND_CAPS = 1,
    EXP_PRIVATE_NETWORK = 2,
    EXP_DYNAMIC_USER = 4,
    EXP_CHROOT = 8,
    EXP_OS_MON = 16,
    EXP_JIT_PERF = 32,
    EXPOSURE_COMBOS = 64,
    EXP_IP_NONE = 0,      /**< no IP access list */
    EXP_IP_LOCALHOST = 1, /**< every address denied but the loopback ones */
    EXP_IP_OTHER = 2,     /**< an allow list with other addresses */
    EXP_IP_DENY_ALL = 3,  /**< every address denied: only socket activation with
                               private_network writes it, so only combinations with
                               EXP_PRIVATE_NETWORK are measured in this class */
    EXPOSURE_IPS = 4,
    EXPOSURE_UMASKS = 5,
    EXPOSURE_ENTRIES = EXPOSURE_COMBOS * EXPOSURE_IPS * EXPOSURE_UMASKS,
    EXPOSURE_PROFILES = 3,
    EXPOSURE_SCORED = 2,      /**< the systemd versions with a table: 252 and 257 */
    EXPOSURE_UNMEASURED = 255 /**< an entry no generated unit has */
};

/** Tenths, by profile (strict, standard, off) and index, as systemd 252 (Debian 12) scores
 * them (exposure_table_252.c). */
extern const unsigned char EXPOSURE_TABLE_252[EXPOSURE_PROFILES][EXPOSURE_ENTRIES];
/** The same, as systemd 257 (Debian 13) scores them (exposure_table_257.c). */
extern const unsigned char EXPOSURE_TABLE_257[EXPOSURE_PROFILES][EXPOSURE_ENTRIES];

#endif
