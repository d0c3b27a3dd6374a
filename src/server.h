/*
 * server: listeners, admission limits, signals and shutdown.
 *
 * The server accepts connections on every configured listener, refuses
 * those over the connection limits with one `! server full (...)` line that
 * names the limit, survives running out of file descriptors, and turns
 * SIGTERM/SIGINT into a graceful shutdown: stop accepting, tell everyone,
 * flush within a deadline, stop.
 * SIGHUP is logged and ignored (there is no configuration to reload yet).
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

/* Runs the loop until shutdown completes; returns the exit status. */
int server_run(void);

/* Closes the listeners, frees what server_start made, forgets the bans. */
void server_stop(void);

#endif
