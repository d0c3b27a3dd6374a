/*
 * prom: the server's metrics in the Prometheus text exposition format.
 */
#include "http/prom.h"

#include <inttypes.h>
#include <string.h>

#include "core/chat.h"
#include "core/sban.h"
#include "event/conn.h"
#include "lib/metrics.h"
#include "lib/tbuf.h"

/* The protocols counted by name; the known ones are always shown. */
#define PROM_PROTOS_MAX 8

struct prom_census {
    const char *name[PROM_PROTOS_MAX];
    uint64_t n[PROM_PROTOS_MAX][CONN_PHASES];
    size_t nprotos;
};

static const char *const prom_phases[CONN_PHASES] = {
    [CONN_PHASE_NEW] = "new",
    [CONN_PHASE_OPEN] = "open",
    [CONN_PHASE_CLOSING] = "closing",
};

/* conn_census helper: counts one connection under its protocol's name. */
static void prom_count_conn(const struct conn_proto *p, enum conn_phase ph,
                            void *arg)
{
    struct prom_census *cs = arg;
    size_t i = 0;
    while (i < cs->nprotos && strcmp(cs->name[i], p->name) != 0)
        i++;
    if (i == cs->nprotos) {
        if (cs->nprotos == PROM_PROTOS_MAX)
            return;
        cs->name[cs->nprotos++] = p->name;
    }
    cs->n[i][ph]++;
}

/* Appends the HELP and TYPE lines of a metric. */
static void prom_head(struct tbuf *out, const char *name, const char *type,
                      const char *help)
{
    tbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Appends a metric with one value and no labels. */
static void prom_one(struct tbuf *out, const char *name, const char *type,
                     const char *help, uint64_t value)
{
    prom_head(out, name, type, help);
    tbuf_printf(out, "%s %" PRIu64 "\n", name, value);
}

/* Appends the connections by protocol and phase. */
static void prom_connections(struct tbuf *out)
{
    struct prom_census cs = {{"text", "irc", "http", "metrics"}, {{0}}, 4};
    conn_census(prom_count_conn, &cs);
    prom_head(out, "parley_connections", "gauge",
              "Connections now, by protocol and state.");
    for (size_t i = 0; i < cs.nprotos; i++)
        for (size_t ph = 0; ph < CONN_PHASES; ph++)
            tbuf_printf(out,
                        "parley_connections{protocol=\"%s\",state=\"%s\"} "
                        "%" PRIu64 "\n",
                        cs.name[i], prom_phases[ph], cs.n[i][ph]);
}

/* Appends the refusals at accept, by reason. */
static void prom_refusals(struct tbuf *out)
{
    prom_head(out, "parley_accepts_refused_total", "counter",
              "Connections refused at accept, by reason.");
    for (size_t i = 0; i < METRICS_REFUSALS; i++)
        tbuf_printf(out,
                    "parley_accepts_refused_total{reason=\"%s\"} %" PRIu64 "\n",
                    metrics_refusal_name(i), metrics.refused[i]);
}

/* Appends the histogram of loop iteration times. */
static void prom_loop(struct tbuf *out)
{
    const char *name = "parley_loop_iteration_seconds";
    prom_head(out, name, "histogram",
              "Time of one event loop iteration: events, timers and the "
              "flush before sleeping.");
    uint64_t total = 0;
    for (size_t i = 0; i < METRICS_LOOP_BUCKETS; i++) {
        total += metrics.loop[i];
        uint64_t us = metrics_loop_bound(i);
        if (us)
            tbuf_printf(out, "%s_bucket{le=\"%" PRIu64 ".%06" PRIu64 "\"} ",
                        name, us / 1000000u, us % 1000000u);
        else
            tbuf_printf(out, "%s_bucket{le=\"+Inf\"} ", name);
        tbuf_printf(out, "%" PRIu64 "\n", total);
    }
    tbuf_printf(out, "%s_sum %" PRIu64 ".%06" PRIu64 "\n", name,
                metrics.loop_us / 1000000u, metrics.loop_us % 1000000u);
    tbuf_printf(out, "%s_count %" PRIu64 "\n", name, total);
}

/* The plain counters, in the order the page shows them. */
static const struct {
    const char *name, *help;
    const uint64_t *value;
} prom_counters[] = {
    {"parley_connections_accepted_total", "Connections accepted.",
     &metrics.accepted},
    {"parley_messages_total",
     "Messages said: lines to rooms, actions, private messages.",
     &metrics.messages},
    {"parley_deliveries_total",
     "Events (messages, joins, ...) handed to a recipient.",
     &metrics.deliveries},
    {"parley_received_bytes_total", "Bytes read from clients.",
     &metrics.bytes_in},
    {"parley_sent_bytes_total", "Bytes written to clients.",
     &metrics.bytes_out},
    {"parley_sendq_cutoffs_total",
     "Connections cut off for a full output queue (--sendq-max).",
     &metrics.sendq_cutoffs},
    {"parley_memory_cutoffs_total",
     "Connections cut off when output memory ran out (--out-mem-max).",
     &metrics.memory_cutoffs},
    {"parley_flood_pauses_total",
     "Times a client's input was paused for its flood budget.",
     &metrics.flood_pauses},
    {"parley_tls_handshakes_total", "TLS handshakes completed.",
     &metrics.tls_handshakes},
    {"parley_tls_handshake_failures_total", "TLS handshakes that failed.",
     &metrics.tls_failures},
    {"parley_http_requests_total", "HTTP requests answered.",
     &metrics.http_requests},
};

/* Appends the history store's counters (zeros with --db none). */
static void prom_store(struct tbuf *out)
{
    struct metrics_store st;
    metrics_get_store(&st);
    prom_one(out, "parley_store_commits_total", "counter",
             "Transactions the history store committed.", st.commits);
    prom_one(out, "parley_store_rows_total", "counter",
             "Records the history store committed: messages, room states, "
             "server ban changes.",
             st.rows);
    prom_one(out, "parley_store_write_errors_total", "counter",
             "History store commits that failed (each is retried).", st.errors);
    prom_one(out, "parley_store_messages_lost_total", "counter",
             "Messages the history store gave up while commits failed.",
             st.lost);
}

void prom_page(struct tbuf *out)
{
    prom_connections(out);
    prom_refusals(out);
    for (size_t i = 0; i < sizeof prom_counters / sizeof *prom_counters; i++)
        prom_one(out, prom_counters[i].name, "counter", prom_counters[i].help,
                 *prom_counters[i].value);
    prom_one(out, "parley_rooms", "gauge", "Rooms now.", chat_room_count());
    prom_one(out, "parley_users", "gauge", "People here now.",
             chat_client_count());
    prom_one(out, "parley_server_bans", "gauge",
             "Server bans in force (address and mask).", sban_count());
    prom_store(out);
    prom_loop(out);
}
