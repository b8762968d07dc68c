/* Running the system's tools (tar, cp, systemctl, journalctl, systemd-sysusers): no shell, the
 * argument vector as given. */
#ifndef VIGIL_DEPLOY_RUN_H
#define VIGIL_DEPLOY_RUN_H

#include "buf.h"

/** Runs `argv` (searched in PATH) and waits for it. With `out`, its standard output is
 * appended there; with `errout`, its standard error (else both are inherited). Returns the
 * exit status (>= 0; 128 + N for a signal), or -errno when it could not be started. */
int run_cmd(const char *const *argv, struct buf *out, struct buf *errout);

#endif
