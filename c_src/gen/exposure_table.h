/* The expected exposure of every combination of the settings `systemd-analyze security`
 * assesses differently, per profile, measured by test/gen/exposure.py (the score is a rounded
 * weighted sum, so options do not add up in tenths). */
#ifndef VIGIL_GEN_EXPOSURE_TABLE_H
#define VIGIL_GEN_EXPOSURE_TABLE_H

/** Index: the option bits, plus EXPOSURE_COMBOS times (umask class * EXPOSURE_IPS + IP
 * allow class). Umask classes: 0 (0077-like) .. 4 (world-writable); IP allow classes: 0
 * none, 1 localhost only, 2 other addresses. */
enum {
    EXP_BIND_CAPS = 1,
    EXP_PRIVATE_NETWORK = 2,
    EXP_DYNAMIC_USER = 4,
    EXP_CHROOT = 8,
    EXP_OS_MON = 16,
    EXP_JIT_PERF = 32,
    EXPOSURE_COMBOS = 64,
    EXPOSURE_IPS = 3,
    EXPOSURE_UMASKS = 5,
    EXPOSURE_ENTRIES = EXPOSURE_COMBOS * EXPOSURE_IPS * EXPOSURE_UMASKS,
    EXPOSURE_PROFILES = 3
};

/** Tenths, by profile (strict, standard, off) and index. */
extern const unsigned char EXPOSURE_TABLE[EXPOSURE_PROFILES][EXPOSURE_ENTRIES];

#endif
