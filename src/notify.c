/*
 * notify: readiness, reload, stop and watchdog messages to systemd.
 */
#include "notify.h"

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-daemon.h>

#include "event/ev.h"
#include "lib/log.h"

static struct ev_loop *notify_loop;
static struct ev_timer notify_timer;
static uint64_t notify_period_ms; /* 0: no watchdog */

/* Sends one state; a failure is logged once and otherwise harmless. */
static void notify_send(const char *state)
{
    static bool warned;
    int rc = sd_notify(0, state);
    if (rc < 0 && !warned) {
        warned = true;
        log_warn("event=notify-failed error=%d", -rc);
    }
}

void notify_ready(void)
{
    notify_send("READY=1\nSTATUS=serving");
}

void notify_reloading(void)
{
    notify_send("RELOADING=1\nSTATUS=reloading the configuration");
}

void notify_stopping(void)
{
    notify_send("STOPPING=1\nSTATUS=shutting down");
}

/* The watchdog's timer: the loop is alive, say so, and come back. */
static void notify_on_timer(struct ev_loop *loop, struct ev_timer *t)
{
    notify_send("WATCHDOG=1");
    ev_timer_start(loop, t, notify_period_ms, notify_on_timer);
}

void notify_watchdog_start(struct ev_loop *loop)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return;
    notify_loop = loop;
    notify_period_ms = usec / 2000 > 0 ? usec / 2000 : 1;
    log_info("event=watchdog period_ms=%llu",
             (unsigned long long)notify_period_ms);
    notify_send("WATCHDOG=1");
    ev_timer_start(loop, &notify_timer, notify_period_ms, notify_on_timer);
}

void notify_fini(void)
{
    if (notify_loop)
        ev_timer_stop(notify_loop, &notify_timer);
    notify_loop = NULL;
}
