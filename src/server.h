/*
 * server: listeners, admission limits, signals and shutdown.
 *
 * The server accepts connections on every configured listener, refuses
 * those over the connection limits with one `! server full (...)` line that
 * names the limit, survives running out of file descriptors, and turns
 * SIGTERM/SIGINT into a graceful shutdown: stop accepting, tell everyone,
 * flush within a deadline, stop.
 * SIGHUP runs the reload function given to server_set_reload.
 */
#ifndef PARLEY_SERVER_H
#define PARLEY_SERVER_H

struct config;
struct ev_loop;

/*
 * Binds every listener in cfg and installs the signal handling on loop.
 * Logs each bound address, then prints on standard output one line saying
 * how to connect. Returns 0, or -1 after logging why not.
 */
int server_start(struct ev_loop *loop, const struct config *cfg);

/*
 * Makes SIGHUP call reload (in the loop, never inside a handler); NULL:
 * SIGHUP is logged and ignored.
 */
void server_set_reload(void (*reload)(void));

/*
 * Takes the settings of the configuration given to server_start that may
 * have changed in place (a reload): connection limits (flood, queues,
 * memory, probe wait) now; max-per-ip, limit-loopback, keepalive and
 * shutdown-timeout are read from it when used anyway.
 */
void server_reconfigure(void);

/* Runs the loop until shutdown completes; returns the exit status. */
int server_run(void);

/*
 * Reads the TLS certificate and key again from their files, for
 * connections made from now on; those already open keep theirs. Logs the
 * outcome (event=tls-reload); on failure it keeps the old ones and logs
 * why. Returns 0 (also without TLS listeners) or -1.
 */
int server_reload_tls(void);

/* Closes the listeners, frees what server_start made, forgets the bans. */
void server_stop(void);

#endif
