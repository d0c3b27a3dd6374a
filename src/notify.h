/*
 * notify: tells systemd (or whoever set NOTIFY_SOCKET) how the server is
 * doing, with libsystemd's sd_notify: READY=1 once it listens, RELOADING=1
 * while a SIGHUP is handled (then READY=1 again), STOPPING=1 when it shuts
 * down, and WATCHDOG=1 from the loop at half the unit's WatchdogSec, so a
 * loop that hangs is noticed. Without NOTIFY_SOCKET every call does
 * nothing.
 */
#ifndef PARLEY_NOTIFY_H
#define PARLEY_NOTIFY_H

struct ev_loop;

/* Sends READY=1 with a STATUS= line. */
void notify_ready(void);

/* Sends RELOADING=1. */
void notify_reloading(void);

/* Sends STOPPING=1. */
void notify_stopping(void);

/*
 * If the service manager asked for a watchdog (WATCHDOG_USEC), sends
 * WATCHDOG=1 from a timer on loop every half of that period until
 * notify_fini. Logs the period.
 */
void notify_watchdog_start(struct ev_loop *loop);

/* Stops the watchdog timer. */
void notify_fini(void);

#endif
