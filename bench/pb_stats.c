/*
 * pb_stats.c - measurements and the final report of parley-bench.
 *
 * Latencies go into a log-linear histogram (32 sub-buckets per power of two,
 * so a quantile is within about 3 %). The server is observed through /proc:
 * VmRSS from /proc/PID/status and utime+stime from /proc/PID/stat (all its
 * threads, 1/CLK_TCK resolution). The report is a human table on stdout and
 * one line "RESULT key=value ..." for scripts.
 */
#include "pb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Above this share of a core the load generator is the bottleneck. */
#define PB_BUSY_PCT 90.0
/* Above this share of a core used by other processes the run was noisy. */
#define PB_NOISY_PCT 15.0

/* Numbers derived from a finished run. */
struct pb_sum {
    double win_s, connect_s, dps, mps;
    double srv_cpu_s, srv_pct, ns_per_deliv, rss_per_conn, slab_per_conn;
    double lg_pct, other_pct;
    double join_srv_cpu_s, join_lg_cpu_s, join_other_pct; /* connect phase */
    uint64_t win_deliv, win_sent, lost, extra;
    uint32_t slow_cut;
    double p50, p99, p999, max;
};

/* Returns the bucket index of a value in nanoseconds. */
static unsigned hist_index(uint64_t v)
{
    unsigned e;

    if (v < 32)
        return (unsigned)v;
    e = 63u - (unsigned)__builtin_clzll(v);
    return (e - 4) * 32 + (unsigned)((v >> (e - 5)) & 31);
}

/* Returns the middle of bucket idx. */
static uint64_t hist_value(unsigned idx)
{
    unsigned e, sub;

    if (idx < 32)
        return idx;
    e = idx / 32 + 4;
    sub = idx % 32;
    return ((uint64_t)(32 + sub) << (e - 5)) + ((1ull << (e - 5)) >> 1);
}

/* Adds one latency (ns) to h. Negative values arrive as huge: clamp. */
void pb_hist_add(struct pb_hist *h, uint64_t ns)
{
    if (ns > (1ull << 62))
        ns = 0;
    h->bucket[hist_index(ns)]++;
    h->count++;
    if (ns > h->max)
        h->max = ns;
}

/* Returns the q-quantile (0 < q <= 1) of h in ns, 0 when h is empty. */
uint64_t pb_hist_quantile(const struct pb_hist *h, double q)
{
    uint64_t want = (uint64_t)(q * (double)h->count + 0.999999), seen = 0;

    if (h->count == 0)
        return 0;
    for (unsigned i = 0; i < PB_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= want) {
            uint64_t v = hist_value(i);

            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

/* Reads the "KEY: N kB" line of a /proc file such as /proc/PID/status or
 * /proc/meminfo; returns N, or -1 when the file or the key is missing. */
static long proc_kb(const char *path, const char *key)
{
    char line[256];
    size_t klen = strlen(key);
    long kb = -1;
    FILE *f = fopen(path, "re");

    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            kb = strtol(line + klen + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* Reads VmRSS (kB) of pid from /proc/PID/status; -1 when unknown. */
static long proc_rss(int pid)
{
    char path[64];

    snprintf(path, sizeof path, "/proc/%d/status", pid);
    return proc_kb(path, "VmRSS");
}

/* Reads utime+stime of pid in seconds from /proc/PID/stat; -1 if unknown. */
static double proc_cpu(int pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut, st;
    size_t n;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which may hold spaces: state is 3rd. */
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                            "%lu %lu",
                     &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Reads the machine's Slab (kB) from /proc/meminfo; -1 when unknown. */
static long proc_slab(void)
{
    return proc_kb("/proc/meminfo", "Slab");
}

/* Reads the machine's non-idle CPU time in seconds from /proc/stat. */
static double proc_busy(void)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "re");
    int n;

    if (!f)
        return -1;
    n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
               &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 5)
        return -1;
    /* user nice system [idle iowait] irq softirq steal */
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) /
           (double)sysconf(_SC_CLK_TCK);
}

/*
 * Fills p with the RSS and CPU time of pid (unknown when pid <= 0) and the
 * machine's kernel slab memory.
 */
void pb_proc_read(int pid, struct pb_proc *p)
{
    p->rss_kb = pid > 0 ? proc_rss(pid) : -1;
    p->cpu_s = pid > 0 ? proc_cpu(pid) : -1;
    p->slab_kb = proc_slab();
    p->busy_s = proc_busy();
}

/* Returns the CPU time (user + system) of this process in seconds. */
double pb_self_cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/*
 * Computes the CPU time the server, the load generator and the rest of the
 * machine used while the connections were being made (unknown: -1): who
 * held up the connect phase.
 */
static void sum_connect_cpu(const struct pb_run *r, struct pb_sum *m)
{
    m->join_srv_cpu_s = m->join_lg_cpu_s = m->join_other_pct = -1;
    if (!r->t_joined)
        return;
    m->join_lg_cpu_s = r->lg_cpu_joined - r->lg_cpu_t0;
    if (r->srv_before.cpu_s < 0 || r->srv_joined.cpu_s < 0)
        return;
    m->join_srv_cpu_s = r->srv_joined.cpu_s - r->srv_before.cpu_s;
    if (r->srv_before.busy_s >= 0 && m->connect_s > 0) {
        m->join_other_pct = 100.0 *
                            (r->srv_joined.busy_s - r->srv_before.busy_s -
                             m->join_srv_cpu_s - m->join_lg_cpu_s) /
                            m->connect_s;
        if (m->join_other_pct < 0)
            m->join_other_pct = 0;
    }
}

/* Computes the derived figures of r. */
static void sum_compute(const struct pb_run *r, struct pb_sum *m)
{
    memset(m, 0, sizeof *m);
    m->win_s = (double)(r->t_measure_end - r->t_measure) / 1e9;
    m->connect_s = r->t_joined ? (double)(r->t_joined - r->t0) / 1e9 : -1;
    m->win_deliv = r->m_deliv1 - r->m_deliv0;
    m->win_sent = r->m_sent1 - r->m_sent0;
    if (m->win_s > 0) {
        m->dps = (double)m->win_deliv / m->win_s;
        m->mps = (double)m->win_sent / m->win_s;
        m->lg_pct = 100.0 * (r->lg_cpu1 - r->lg_cpu0) / m->win_s;
    }
    m->lost = r->expected > r->delivered ? r->expected - r->delivered : 0;
    m->extra = r->delivered > r->expected ? r->delivered - r->expected : 0;
    m->srv_cpu_s = -1;
    if (r->srv_m0.cpu_s >= 0 && r->srv_m1.cpu_s >= 0) {
        m->srv_cpu_s = r->srv_m1.cpu_s - r->srv_m0.cpu_s;
        if (m->win_s > 0)
            m->srv_pct = 100.0 * m->srv_cpu_s / m->win_s;
        if (m->win_deliv)
            m->ns_per_deliv = m->srv_cpu_s * 1e9 / (double)m->win_deliv;
    }
    m->other_pct = -1;
    if (m->win_s > 0 && m->srv_cpu_s >= 0 && r->srv_m0.busy_s >= 0)
        m->other_pct = 100.0 * /* tick-based: may come out below 0 */
                       (r->srv_m1.busy_s - r->srv_m0.busy_s - m->srv_cpu_s -
                        (r->lg_cpu1 - r->lg_cpu0)) /
                       m->win_s;
    if (m->other_pct < 0 && m->other_pct > -1e9)
        m->other_pct = 0;
    sum_connect_cpu(r, m);
    m->rss_per_conn = -1;
    if (r->srv_before.rss_kb >= 0 && r->srv_joined.rss_kb >= 0 && r->joined)
        m->rss_per_conn =
            (double)(r->srv_joined.rss_kb - r->srv_before.rss_kb) * 1024.0 /
            (double)r->joined;
    m->slab_per_conn = -1;
    if (r->srv_before.slab_kb >= 0 && r->srv_joined.slab_kb >= 0 && r->joined)
        m->slab_per_conn =
            (double)(r->srv_joined.slab_kb - r->srv_before.slab_kb) * 1024.0 /
            (double)r->joined;
    for (uint32_t i = 0; i < r->nconns; i++)
        if (r->conns[i].role == PB_ROLE_SLOW && r->conns[i].cut)
            m->slow_cut++;
    m->p50 = (double)pb_hist_quantile(&r->hist, 0.50) / 1e3;
    m->p99 = (double)pb_hist_quantile(&r->hist, 0.99) / 1e3;
    m->p999 = (double)pb_hist_quantile(&r->hist, 0.999) / 1e3;
    m->max = (double)r->hist.max / 1e3;
}

/* True when the run lost nothing, kept order and did not fail. */
bool pb_run_ok(const struct pb_run *r)
{
    struct pb_sum m;

    sum_compute(r, &m);
    if (r->failed || r->timed_out || m.lost || m.extra || r->ooo ||
        r->gaps || r->misrouted || r->pub_mismatch)
        return false;
    return r->o.allow_partial || r->joined == r->nconns;
}

/* Prints the human table, part one: setup and message counts. */
static void report_counts(const struct pb_run *r, const struct pb_sum *m)
{
    const struct pb_opts *o = &r->o;

    printf("parley-bench %s  clients=%u rooms=%u senders=%u %s=%g size=%u "
           "slow=%u%s%s\n",
           r->proto->name, o->clients, o->rooms, o->senders,
           o->window ? "window" : "rate",
           o->window ? (double)o->window : o->rate, o->size, o->slow,
           o->label ? "  label=" : "", o->label ? o->label : "");
    printf("  %-22s %.3f s  (%u of %u connections joined, %u refused, "
           "%u source address%s)\n",
           "connect+join", m->connect_s, r->joined, r->nconns, r->refused,
           pb_conn_src_count(r), pb_conn_src_count(r) > 1 ? "es" : "");
    if (m->join_srv_cpu_s >= 0)
        printf("  %-22s server %.2f s, load generator %.2f s, others %.0f %% "
               "of a core\n",
               "CPU while connecting", m->join_srv_cpu_s, m->join_lg_cpu_s,
               m->join_other_pct);
    if (r->note[0])
        printf("  %-22s %s\n", "first refusal", r->note);
    printf("  %-22s %.2f s after %.2f s of warm-up\n", "measured", m->win_s,
           o->warmup);
    printf("  %-22s %.0f msgs/s  (%llu in the window)\n", "sent", m->mps,
           (unsigned long long)m->win_sent);
    printf("  %-22s %.0f deliveries/s  (%.3f M/s)\n", "delivered", m->dps,
           m->dps / 1e6);
    printf("  %-22s expected %llu, delivered %llu, lost %llu, extra %llu\n",
           "whole run", (unsigned long long)r->expected,
           (unsigned long long)r->delivered, (unsigned long long)m->lost,
           (unsigned long long)m->extra);
    printf("  %-22s out of order %llu, gaps %llu, misrouted %llu, "
           "other lines %llu\n",
           "order", (unsigned long long)r->ooo, (unsigned long long)r->gaps,
           (unsigned long long)r->misrouted,
           (unsigned long long)r->other_lines);
    printf("  %-22s p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
           "latency", m->p50, m->p99, m->p999, m->max);
}

/* Prints the human table, part two: server and load generator costs. */
static void report_costs(const struct pb_run *r, const struct pb_sum *m)
{
    if (r->o.server_pid > 0) {
        printf("  %-22s %ld KiB before, %ld KiB joined, %ld KiB at the end; "
               "%.0f B per connection\n",
               "server RSS", r->srv_before.rss_kb, r->srv_joined.rss_kb,
               r->srv_end.rss_kb, m->rss_per_conn);
        printf("  %-22s %.0f B of kernel slab per connection, both ends of "
               "it (whole machine)\n",
               "kernel memory", m->slab_per_conn);
        printf("  %-22s %.2f s in the window (%.0f %% of a core), %.1f ns "
               "per delivery\n",
               "server CPU", m->srv_cpu_s, m->srv_pct, m->ns_per_deliv);
    }
    printf("  %-22s %.0f %% of a core%s\n", "load generator CPU", m->lg_pct,
           m->lg_pct >= PB_BUSY_PCT
               ? "  <- the load generator is the bottleneck"
               : "");
    if (m->other_pct >= 0)
        printf("  %-22s %.0f %% of a core used by other processes%s\n",
               "rest of the machine", m->other_pct,
               m->other_pct >= PB_NOISY_PCT ? "  <- noisy, figures suspect"
                                            : "");
    if (r->o.slow)
        printf("  %-22s %u of %u cut off by the server (%llu bytes read "
               "after the run)\n",
               "slow readers", m->slow_cut, r->o.slow,
               (unsigned long long)r->slow_bytes);
    if (pb_run_ok(r))
        printf("  %-22s ok\n", "status");
    else
        printf("  %-22s FAILED%s%s\n", "status", r->why[0] ? ": " : "",
               r->why);
}

/* Prints the machine-readable RESULT line. */
static void report_result(const struct pb_run *r, const struct pb_sum *m)
{
    const struct pb_opts *o = &r->o;

    printf("RESULT proto=%s label=%s clients=%u rooms=%u senders=%u "
           "window=%u rate=%g size=%u slow=%u conns=%u joined=%u refused=%u "
           "connect_s=%.4f warmup_s=%g window_s=%.3f sent=%llu "
           "expected=%llu delivered=%llu lost=%llu extra=%llu ooo=%llu "
           "gaps=%llu misrouted=%llu ",
           r->proto->name, o->label ? o->label : "-", o->clients, o->rooms,
           o->senders, o->window, o->rate, o->size, o->slow, r->nconns,
           r->joined, r->refused, m->connect_s, o->warmup, m->win_s,
           (unsigned long long)r->sent, (unsigned long long)r->expected,
           (unsigned long long)r->delivered, (unsigned long long)m->lost,
           (unsigned long long)m->extra, (unsigned long long)r->ooo,
           (unsigned long long)r->gaps, (unsigned long long)r->misrouted);
    printf("msgs_per_s=%.0f deliv_per_s=%.0f lat_p50_us=%.1f "
           "lat_p99_us=%.1f lat_p999_us=%.1f lat_max_us=%.1f "
           "srv_rss_before_kb=%ld srv_rss_joined_kb=%ld srv_rss_end_kb=%ld "
           "srv_rss_per_conn_b=%.0f slab_per_conn_b=%.0f srv_cpu_s=%.3f "
           "srv_cpu_pct=%.1f "
           "srv_ns_per_deliv=%.1f lg_cpu_pct=%.1f lg_bottleneck=%d "
           "other_cpu_pct=%.1f join_srv_cpu_s=%.3f join_lg_cpu_s=%.3f "
           "join_other_cpu_pct=%.1f slow_cut=%u pub_mismatch=%llu "
           "status=%s\n",
           m->mps, m->dps, m->p50, m->p99, m->p999, m->max,
           r->srv_before.rss_kb, r->srv_joined.rss_kb, r->srv_end.rss_kb,
           m->rss_per_conn, m->slab_per_conn, m->srv_cpu_s, m->srv_pct,
           m->ns_per_deliv,
           m->lg_pct, m->lg_pct >= PB_BUSY_PCT, m->other_pct,
           m->join_srv_cpu_s, m->join_lg_cpu_s, m->join_other_pct, m->slow_cut,
           (unsigned long long)r->pub_mismatch, pb_run_ok(r) ? "ok" : "fail");
}

/* Prints the human table and then the RESULT line on stdout. */
void pb_report(const struct pb_run *r)
{
    struct pb_sum m;

    sum_compute(r, &m);
    report_counts(r, &m);
    report_costs(r, &m);
    report_result(r, &m);
    fflush(stdout);
}
