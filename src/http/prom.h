/*
 * prom: the server's metrics in the Prometheus text exposition format
 * (version 0.0.4), as /metrics serves them.
 *
 * Formatting happens only here, when a scrape asks: the counters are
 * plain integers bumped in the loop (lib/metrics.h), and the gauges
 * (connections by protocol and phase, rooms, people, bans) are counted
 * now. A page is a few kilobytes whatever the server's size; building it
 * costs one pass over the connections.
 */
#ifndef PARLEY_PROM_H
#define PARLEY_PROM_H

struct tbuf;

/* The Content-Type of the page. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Appends the whole metrics page to out. */
void prom_page(struct tbuf *out);

#endif
