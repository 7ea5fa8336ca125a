/*
 * mod_reqin_log: hands every HTTP request to the ja4 daemon as one JSON record over a
 * UNIX socket, when the request is logged (so status, bytes and duration are known).
 *
 * The web server comes first. Records go out with non-blocking send()s on a SOCK_SEQPACKET
 * connection: the kernel takes a whole message or nothing, so a slow or absent daemon costs a
 * request at most one failed system call, never a wait. Each child gathers its records for up
 * to ReqinLogFlushInterval (one message, records separated by '\n') so that Apache pays one
 * send() per batch rather than per request. Records that cannot be sent are dropped and
 * counted; the connection is re-established lazily, with back-off, once the daemon is back.
 * See docs/apache-module.md.
 *
 *   ReqinLog On|Off                       (server, virtual host)
 *   ReqinLogSocket /run/ja4/reqin.sock    (server, virtual host)
 *   ReqinLogQueryString On|Off            (server, virtual host)
 *   ReqinLogRedactHeaders name...|None    (server, virtual host)
 *   ReqinLogMaxRecordBytes 65536          (server, virtual host)
 *   ReqinLogStatsInterval 60              (server only)
 *   ReqinLogFlushInterval 50              (server only)
 */

#include "httpd.h"
#include "http_config.h"
#include "http_connection.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_ssl.h"
#include "ap_mpm.h"
#include "mod_status.h"

#include "apr_atomic.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "reqin_json.h"

module AP_MODULE_DECLARE_DATA reqin_log_module;

#define REQIN_DEFAULT_SOCKET       "/run/ja4/reqin.sock"
#define REQIN_DEFAULT_MAX_RECORD   65536
#define REQIN_MIN_RECORD           4096
/* Records travel in one SEQPACKET message, bounded by the socket send buffer (the kernel
 * caps SO_SNDBUF at 2 * net.core.wmem_max, 425984 bytes by default). */
#define REQIN_MAX_RECORD           262144
#define REQIN_SNDBUF               (1024 * 1024)
#define REQIN_DEFAULT_STATS        60
#define REQIN_DEFAULT_FLUSH_MS     50
/* One batch message; the daemon's MaxRecordBytes is at least this. */
#define REQIN_BATCH_BYTES          65536
#define REQIN_BACKOFF_MIN          apr_time_from_msec(100)
#define REQIN_BACKOFF_MAX          apr_time_from_sec(2)
/* Output bytes allowed for a short field (method, vhost, TLS facts...). */
#define REQIN_SMALL_FIELD          256
/* Room kept for "],\"truncated\":true}" at the end of the record. */
#define REQIN_TAIL_RESERVE         24
#define REQIN_REDACTED             "[redacted]"

static const char *const default_redact[] = { "Cookie", "Authorization", "Proxy-Authorization" };

/* ---------------------------------------------------------------- configuration */

typedef struct reqin_sink reqin_sink;

typedef struct {
    int enabled;                    /* -1: unset (off) */
    const char *socket_path;        /* NULL: unset (REQIN_DEFAULT_SOCKET) */
    int query_string;               /* -1: unset (on) */
    apr_array_header_t *redact;     /* of const char *; NULL: unset (default_redact) */
    int max_record;                 /* 0: unset (REQIN_DEFAULT_MAX_RECORD) */
    int stats_interval;             /* -1: unset (REQIN_DEFAULT_STATS); main server only */
    int flush_ms;                   /* -1: unset (REQIN_DEFAULT_FLUSH_MS); main server only */
    reqin_sink *sink;               /* this child's connection, set by child_init */
    apr_uint32_t redact_first;      /* bit (c | 0x20) & 31 for each redacted name's first letter; set by child_init */
} reqin_server_conf;

static void *reqin_create_server_conf(apr_pool_t *p, server_rec *s)
{
    reqin_server_conf *conf = apr_pcalloc(p, sizeof(*conf));
    (void)s;
    conf->enabled = -1;
    conf->query_string = -1;
    conf->stats_interval = -1;
    conf->flush_ms = -1;
    return conf;
}

static void *reqin_merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    const reqin_server_conf *base = basev;
    const reqin_server_conf *add = addv;
    reqin_server_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->enabled = add->enabled != -1 ? add->enabled : base->enabled;
    conf->socket_path = add->socket_path != NULL ? add->socket_path : base->socket_path;
    conf->query_string = add->query_string != -1 ? add->query_string : base->query_string;
    conf->redact = add->redact != NULL ? add->redact : base->redact;
    conf->max_record = add->max_record != 0 ? add->max_record : base->max_record;
    conf->stats_interval = base->stats_interval;
    conf->flush_ms = base->flush_ms;
    return conf;
}

static const char *set_enabled(cmd_parms *cmd, void *dummy, int on)
{
    reqin_server_conf *conf = ap_get_module_config(cmd->server->module_config, &reqin_log_module);
    (void)dummy;
    conf->enabled = on;
    return NULL;
}

static const char *set_query_string(cmd_parms *cmd, void *dummy, int on)
{
    reqin_server_conf *conf = ap_get_module_config(cmd->server->module_config, &reqin_log_module);
    (void)dummy;
    conf->query_string = on;
    return NULL;
}

static const char *set_socket(cmd_parms *cmd, void *dummy, const char *path)
{
    reqin_server_conf *conf = ap_get_module_config(cmd->server->module_config, &reqin_log_module);
    struct sockaddr_un sun;
    (void)dummy;
    if (path[0] != '/') {
        return apr_psprintf(cmd->pool, "%s: '%s' is not an absolute path", cmd->cmd->name, path);
    }
    if (strlen(path) >= sizeof(sun.sun_path)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is longer than a UNIX socket path can be (%d bytes)",
                            cmd->cmd->name, path, (int)sizeof(sun.sun_path) - 1);
    }
    conf->socket_path = path;
    return NULL;
}

static const char *set_redact(cmd_parms *cmd, void *dummy, const char *name)
{
    reqin_server_conf *conf = ap_get_module_config(cmd->server->module_config, &reqin_log_module);
    (void)dummy;
    if (conf->redact == NULL) {
        /* The first use in a context replaces the inherited list rather than adding to it. */
        conf->redact = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    if (strcasecmp(name, "None") == 0) {
        apr_array_clear(conf->redact);
        return NULL;
    }
    if (*name == '\0' || *ap_scan_http_token(name) != '\0') {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid header name", cmd->cmd->name, name);
    }
    *(const char **)apr_array_push(conf->redact) = name;
    return NULL;
}

static const char *parse_int(cmd_parms *cmd, const char *arg, apr_int64_t min, apr_int64_t max,
                             apr_int64_t *value)
{
    char *end;
    apr_int64_t v;
    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < min || v > max) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a whole number between %" APR_INT64_T_FMT
                            " and %" APR_INT64_T_FMT, cmd->cmd->name, arg, min, max);
    }
    *value = v;
    return NULL;
}

static const char *set_max_record(cmd_parms *cmd, void *dummy, const char *arg)
{
    reqin_server_conf *conf = ap_get_module_config(cmd->server->module_config, &reqin_log_module);
    apr_int64_t v = 0;
    const char *err = parse_int(cmd, arg, REQIN_MIN_RECORD, REQIN_MAX_RECORD, &v);
    (void)dummy;
    if (err == NULL) {
        conf->max_record = (int)v;
    }
    return err;
}

/* A server-wide (main server only) integer directive within [min, max]. */
static const char *set_global_int(cmd_parms *cmd, const char *arg, apr_int64_t min, apr_int64_t max, int *out)
{
    apr_int64_t v = 0;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err == NULL) {
        err = parse_int(cmd, arg, min, max, &v);
    }
    if (err == NULL) {
        *out = (int)v;
    }
    return err;
}

static const char *set_stats_interval(cmd_parms *cmd, void *dummy, const char *arg)
{
    reqin_server_conf *conf = ap_get_module_config(cmd->server->module_config, &reqin_log_module);
    (void)dummy;
    return set_global_int(cmd, arg, 0, 86400, &conf->stats_interval);
}

static const char *set_flush_interval(cmd_parms *cmd, void *dummy, const char *arg)
{
    reqin_server_conf *conf = ap_get_module_config(cmd->server->module_config, &reqin_log_module);
    (void)dummy;
    return set_global_int(cmd, arg, 0, 1000, &conf->flush_ms);
}

static const command_rec reqin_cmds[] = {
    AP_INIT_FLAG("ReqinLog", set_enabled, NULL, RSRC_CONF,
                 "On|Off: send one JSON record per request to the ja4 daemon (default Off)"),
    AP_INIT_TAKE1("ReqinLogSocket", set_socket, NULL, RSRC_CONF,
                  "absolute path of the daemon's UNIX socket (default " REQIN_DEFAULT_SOCKET ")"),
    AP_INIT_FLAG("ReqinLogQueryString", set_query_string, NULL, RSRC_CONF,
                 "On|Off: include the query string in records (default On)"),
    AP_INIT_ITERATE("ReqinLogRedactHeaders", set_redact, NULL, RSRC_CONF,
                    "request headers whose values are replaced by " REQIN_REDACTED ", or None "
                    "(default Cookie Authorization Proxy-Authorization)"),
    AP_INIT_TAKE1("ReqinLogMaxRecordBytes", set_max_record, NULL, RSRC_CONF,
                  "largest record in bytes, 4096-262144 (default 65536); longer records are truncated"),
    AP_INIT_TAKE1("ReqinLogStatsInterval", set_stats_interval, NULL, RSRC_CONF,
                  "seconds between counter lines in the error log, 0 for none (default 60)"),
    AP_INIT_TAKE1("ReqinLogFlushInterval", set_flush_interval, NULL, RSRC_CONF,
                  "milliseconds a child may hold records to send them together, 0-1000; "
                  "0 sends each record at once (default 50)"),
    { NULL }
};

/* ---------------------------------------------------------------- counters */

/*
 * One set of counters for the whole server, in anonymous shared memory created by the
 * parent in post_config and inherited by every child, updated with atomic instructions.
 * Reset by a restart.
 */
typedef struct {
    apr_uint64_t sent;
    apr_uint64_t dropped_unavailable;   /* not connected: no socket, refused, in back-off */
    apr_uint64_t dropped_full;          /* the daemon lags: the socket buffer is full */
    apr_uint64_t dropped_error;         /* the connection broke during send */
    apr_uint64_t dropped_too_big;       /* larger than the socket accepts */
    apr_uint64_t truncated;             /* sent, but cut at ReqinLogMaxRecordBytes */
    apr_uint64_t connects;              /* connections made to the daemon */
    apr_uint64_t last_report;           /* apr_time_t of the last error-log line */
    apr_uint64_t reported_sent;
    apr_uint64_t reported_dropped;
    /* Built with -DREQIN_PROFILE only (bench/21-apache.sh): thread CPU time spent in the
     * logging hook, and what reading the clock itself costs, to subtract it. */
    apr_uint64_t prof_calls;
    apr_uint64_t prof_build_ns;
    apr_uint64_t prof_send_ns;
    apr_uint64_t prof_clock_ns;
} reqin_counters;

static reqin_counters local_counters;
static reqin_counters *counters = &local_counters;
static int stats_interval = REQIN_DEFAULT_STATS;
static apr_interval_time_t flush_interval = apr_time_from_msec(REQIN_DEFAULT_FLUSH_MS);

#define COUNT(field) __atomic_fetch_add(&counters->field, 1, __ATOMIC_RELAXED)
#define READ(field) __atomic_load_n(&counters->field, __ATOMIC_RELAXED)

static apr_uint64_t dropped_total(void)
{
    return READ(dropped_unavailable) + READ(dropped_full) + READ(dropped_error) + READ(dropped_too_big);
}

/* A counter line in the error log, at most once per interval across all children; only
 * when something changed, at warning level when records were dropped. */
static void maybe_report(server_rec *s, apr_time_t now)
{
    apr_uint64_t last, sent, dropped;
    int level;

    if (stats_interval <= 0) {
        return;
    }
    last = READ(last_report);
    if ((apr_uint64_t)now < last + (apr_uint64_t)apr_time_from_sec(stats_interval)) {
        return;
    }
    if (!__atomic_compare_exchange_n(&counters->last_report, &last, (apr_uint64_t)now, 0,
                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        return;                 /* another thread or child reports */
    }
    sent = READ(sent);
    dropped = dropped_total();
    if (sent == READ(reported_sent) && dropped == READ(reported_dropped)) {
        return;
    }
    level = dropped != READ(reported_dropped) ? APLOG_WARNING : APLOG_INFO;
    __atomic_store_n(&counters->reported_sent, sent, __ATOMIC_RELAXED);
    __atomic_store_n(&counters->reported_dropped, dropped, __ATOMIC_RELAXED);
    ap_log_error(APLOG_MARK, level, 0, s,
                 "mod_reqin_log: records sent %" APR_UINT64_T_FMT ", dropped %" APR_UINT64_T_FMT
                 " (unavailable %" APR_UINT64_T_FMT ", full %" APR_UINT64_T_FMT ", error %"
                 APR_UINT64_T_FMT ", too_big %" APR_UINT64_T_FMT "), truncated %" APR_UINT64_T_FMT
                 ", connects %" APR_UINT64_T_FMT,
                 sent, dropped, READ(dropped_unavailable), READ(dropped_full), READ(dropped_error),
                 READ(dropped_too_big), READ(truncated), READ(connects));
}

#ifdef REQIN_PROFILE
#include <time.h>
static apr_uint64_t thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (apr_uint64_t)ts.tv_sec * 1000000000ULL + (apr_uint64_t)ts.tv_nsec;
}
#endif

/* mod_status: lines in /server-status?auto, a small table in the HTML page. */
static int reqin_status_hook(request_rec *r, int flags)
{
#ifdef REQIN_PROFILE
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "ReqinLogProfileCalls: %" APR_UINT64_T_FMT "\n", READ(prof_calls));
        ap_rprintf(r, "ReqinLogProfileBuildNs: %" APR_UINT64_T_FMT "\n", READ(prof_build_ns));
        ap_rprintf(r, "ReqinLogProfileSendNs: %" APR_UINT64_T_FMT "\n", READ(prof_send_ns));
        ap_rprintf(r, "ReqinLogProfileClockNs: %" APR_UINT64_T_FMT "\n", READ(prof_clock_ns));
    }
#endif
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "ReqinLogSent: %" APR_UINT64_T_FMT "\n", READ(sent));
        ap_rprintf(r, "ReqinLogDropped: %" APR_UINT64_T_FMT "\n", dropped_total());
        ap_rprintf(r, "ReqinLogDroppedUnavailable: %" APR_UINT64_T_FMT "\n", READ(dropped_unavailable));
        ap_rprintf(r, "ReqinLogDroppedFull: %" APR_UINT64_T_FMT "\n", READ(dropped_full));
        ap_rprintf(r, "ReqinLogDroppedError: %" APR_UINT64_T_FMT "\n", READ(dropped_error));
        ap_rprintf(r, "ReqinLogDroppedTooBig: %" APR_UINT64_T_FMT "\n", READ(dropped_too_big));
        ap_rprintf(r, "ReqinLogTruncated: %" APR_UINT64_T_FMT "\n", READ(truncated));
        ap_rprintf(r, "ReqinLogConnects: %" APR_UINT64_T_FMT "\n", READ(connects));
    }
    else {
        ap_rputs("<hr />\n<h2>mod_reqin_log</h2>\n<table>\n", r);
        ap_rprintf(r, "<tr><td>Records sent</td><td>%" APR_UINT64_T_FMT "</td></tr>\n", READ(sent));
        ap_rprintf(r, "<tr><td>Dropped: daemon unavailable</td><td>%" APR_UINT64_T_FMT "</td></tr>\n",
                   READ(dropped_unavailable));
        ap_rprintf(r, "<tr><td>Dropped: socket full</td><td>%" APR_UINT64_T_FMT "</td></tr>\n",
                   READ(dropped_full));
        ap_rprintf(r, "<tr><td>Dropped: send error</td><td>%" APR_UINT64_T_FMT "</td></tr>\n",
                   READ(dropped_error));
        ap_rprintf(r, "<tr><td>Dropped: too big</td><td>%" APR_UINT64_T_FMT "</td></tr>\n",
                   READ(dropped_too_big));
        ap_rprintf(r, "<tr><td>Truncated</td><td>%" APR_UINT64_T_FMT "</td></tr>\n", READ(truncated));
        ap_rprintf(r, "<tr><td>Connects</td><td>%" APR_UINT64_T_FMT "</td></tr>\n</table>\n",
                   READ(connects));
    }
    return OK;
}

/* ---------------------------------------------------------------- the connection to the daemon */

/*
 * One connection per child process and socket path, shared by the child's threads under a
 * mutex. The mutex is held to append a record to the batch (a memcpy), and for one
 * non-blocking send() when the batch is due, or one socket()+connect() when a retry is due:
 * microseconds. A batch is sent when it is ReqinLogFlushInterval old (checked by every
 * request and by a flusher thread in each child, for quiet periods), when the next record
 * would not fit, and when the child exits.
 */
struct reqin_sink {
    const char *path;
    struct sockaddr_un addr;
    socklen_t addr_len;
    int fd;                         /* -1: not connected */
    apr_time_t next_attempt;        /* no connect() before this */
    apr_interval_time_t backoff;
    int down_logged;                /* the current outage was logged */
    apr_thread_mutex_t *mutex;      /* NULL when neither threads nor batching need one */
    char *batch;                    /* records waiting, separated by '\n'; NULL: no batching */
    size_t batch_len;
    apr_uint64_t batch_records;
    apr_time_t batch_first;         /* when the oldest waiting record was added */
    server_rec *server;             /* for the flusher's log lines */
    reqin_sink *next;
};

static reqin_sink *sinks;

/* The flusher thread of this child. */
static apr_thread_t *flusher;
static apr_thread_mutex_t *flusher_mutex;
static apr_thread_cond_t *flusher_cond;
static int flusher_stop;

/* Connects, or schedules the next attempt. Called with the sink's mutex held. */
static int sink_connect(reqin_sink *sink, apr_time_t now, server_rec *s)
{
    int sndbuf = REQIN_SNDBUF;
    int err;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd >= 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        /* A UNIX connect() never waits; with O_NONBLOCK a full backlog gives EAGAIN. */
        if (connect(fd, (struct sockaddr *)&sink->addr, sink->addr_len) == 0) {
            sink->fd = fd;
            sink->backoff = 0;
            COUNT(connects);
            if (sink->down_logged) {
                sink->down_logged = 0;
                ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                             "mod_reqin_log: connected to %s again", sink->path);
            }
            return 1;
        }
        err = errno;
        close(fd);
    }
    else {
        err = errno;
    }
    sink->backoff = sink->backoff == 0 ? REQIN_BACKOFF_MIN
                  : (sink->backoff * 2 > REQIN_BACKOFF_MAX ? REQIN_BACKOFF_MAX : sink->backoff * 2);
    sink->next_attempt = now + sink->backoff;
    if (!sink->down_logged) {
        sink->down_logged = 1;
        ap_log_error(APLOG_MARK, APLOG_WARNING, err, s,
                     "mod_reqin_log: cannot connect to %s; dropping records until the daemon "
                     "is back (retrying every %d ms at most)",
                     sink->path, (int)apr_time_as_msec(REQIN_BACKOFF_MAX));
    }
    return 0;
}

#define ADD(field, n) __atomic_fetch_add(&counters->field, (n), __ATOMIC_RELAXED)

/* Sends one message of n records, or drops and counts them. Called with the mutex held. */
static void sink_send_locked(reqin_sink *sink, const char *buf, size_t len, apr_uint64_t n,
                             server_rec *s, apr_time_t now)
{
    int retried = 0;

    for (;;) {
        ssize_t sent;
        int err;

        if (sink->fd < 0 && (now < sink->next_attempt || !sink_connect(sink, now, s))) {
            ADD(dropped_unavailable, n);
            return;
        }
        sent = send(sink->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent == (ssize_t)len) {
            ADD(sent, n);
            return;
        }
        err = sent < 0 ? errno : EIO;
        if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
            ADD(dropped_full, n);
            return;
        }
        if (err == EMSGSIZE) {
            ADD(dropped_too_big, n);
            return;
        }
        /* EPIPE, ECONNRESET, ENOTCONN...: the daemon went away. Reconnect at once (it may
         * already be back, e.g. after a restart) and try this message once more. */
        close(sink->fd);
        sink->fd = -1;
        sink->next_attempt = 0;
        if (retried) {
            ADD(dropped_error, n);
            return;
        }
        retried = 1;
    }
}

static void sink_flush_locked(reqin_sink *sink, server_rec *s, apr_time_t now)
{
    if (sink->batch_len > 0) {
        sink_send_locked(sink, sink->batch, sink->batch_len, sink->batch_records, s, now);
        sink->batch_len = 0;
        sink->batch_records = 0;
    }
}

/* Hands one record over: into the batch, or at once when batching is off or it is too big. */
static void sink_submit(reqin_sink *sink, const char *buf, size_t len, server_rec *s, apr_time_t now)
{
    if (sink->mutex != NULL) {
        apr_thread_mutex_lock(sink->mutex);
    }
    if (sink->batch == NULL) {
        sink_send_locked(sink, buf, len, 1, s, now);
    }
    else {
        if (sink->batch_len > 0 && sink->batch_len + 1 + len > REQIN_BATCH_BYTES) {
            sink_flush_locked(sink, s, now);
        }
        if (len > REQIN_BATCH_BYTES) {
            sink_send_locked(sink, buf, len, 1, s, now);   /* a big record travels alone */
        }
        else {
            if (sink->batch_len == 0) {
                sink->batch_first = now;
            }
            else {
                sink->batch[sink->batch_len++] = '\n';
            }
            memcpy(sink->batch + sink->batch_len, buf, len);
            sink->batch_len += len;
            sink->batch_records++;
            if (now - sink->batch_first >= flush_interval) {
                sink_flush_locked(sink, s, now);
            }
        }
    }
    if (sink->mutex != NULL) {
        apr_thread_mutex_unlock(sink->mutex);
    }
}

/* Sends the batches that are due (all of them when force is set). */
static void flush_sinks(int force)
{
    reqin_sink *sink;
    for (sink = sinks; sink != NULL; sink = sink->next) {
        apr_time_t now;
        if (sink->batch == NULL) {
            continue;
        }
        if (sink->mutex != NULL) {
            apr_thread_mutex_lock(sink->mutex);
        }
        now = apr_time_now();
        if (sink->batch_len > 0 && (force || now - sink->batch_first >= flush_interval)) {
            sink_flush_locked(sink, sink->server, now);
        }
        if (sink->mutex != NULL) {
            apr_thread_mutex_unlock(sink->mutex);
        }
    }
}

/* The flusher: sends batches that nobody's request flushed because traffic stopped. */
static void *APR_THREAD_FUNC flusher_main(apr_thread_t *thread, void *data)
{
    (void)data;
    apr_thread_mutex_lock(flusher_mutex);
    while (!flusher_stop) {
        apr_thread_cond_timedwait(flusher_cond, flusher_mutex, flush_interval);
        if (flusher_stop) {
            break;
        }
        apr_thread_mutex_unlock(flusher_mutex);
        flush_sinks(0);
        apr_thread_mutex_lock(flusher_mutex);
    }
    apr_thread_mutex_unlock(flusher_mutex);
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

/* Child exit, before the child's sub-pools go: stop the flusher, send what waits. */
static apr_status_t stop_flusher(void *data)
{
    apr_status_t rv;
    (void)data;
    if (flusher != NULL) {
        apr_thread_mutex_lock(flusher_mutex);
        flusher_stop = 1;
        apr_thread_cond_signal(flusher_cond);
        apr_thread_mutex_unlock(flusher_mutex);
        apr_thread_join(&rv, flusher);
        flusher = NULL;
    }
    flush_sinks(1);
    return APR_SUCCESS;
}

static apr_status_t close_sinks(void *data)
{
    reqin_sink *sink;
    (void)data;
    for (sink = sinks; sink != NULL; sink = sink->next) {
        if (sink->fd >= 0) {
            close(sink->fd);
            sink->fd = -1;
        }
    }
    return APR_SUCCESS;
}

/* ---------------------------------------------------------------- hooks */

typedef struct {
    long id;                        /* c->id when the connection was accepted */
    apr_uint32_t requests;          /* requests logged on this connection so far */
    const char *addresses;          /* ,"client_ip":...,"server_port":N rendered once (HTTP/1) */
    size_t addresses_len;
} reqin_conn_state;

static int reqin_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    const reqin_server_conf *conf = ap_get_module_config(s->module_config, &reqin_log_module);
    apr_shm_t *shm;
    apr_status_t rv;
    (void)plog;
    (void)ptemp;

    stats_interval = conf->stats_interval >= 0 ? conf->stats_interval : REQIN_DEFAULT_STATS;
    flush_interval = apr_time_from_msec(conf->flush_ms >= 0 ? conf->flush_ms : REQIN_DEFAULT_FLUSH_MS);
    rv = apr_shm_create(&shm, sizeof(reqin_counters), NULL, pconf);
    if (rv == APR_SUCCESS) {
        counters = apr_shm_baseaddr_get(shm);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "mod_reqin_log: no shared memory for counters; each child counts its own");
        counters = &local_counters;
    }
    memset(counters, 0, sizeof(*counters));
    counters->last_report = (apr_uint64_t)apr_time_now();
    return OK;
}

static void reqin_child_init(apr_pool_t *pchild, server_rec *main_server)
{
    int threaded = 0;
    int batching = flush_interval > 0;
    server_rec *s;

    sinks = NULL;
    flusher = NULL;
    flusher_stop = 0;
    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) != APR_SUCCESS) {
        threaded = AP_MPMQ_STATIC;  /* be safe */
    }
    for (s = main_server; s != NULL; s = s->next) {
        reqin_server_conf *conf = ap_get_module_config(s->module_config, &reqin_log_module);
        const char *path = conf->socket_path != NULL ? conf->socket_path : REQIN_DEFAULT_SOCKET;
        reqin_sink *sink;

        if (conf->enabled != 1) {
            continue;
        }
        conf->redact_first = 0;
        if (conf->redact == NULL) {
            size_t k;
            for (k = 0; k < sizeof(default_redact) / sizeof(default_redact[0]); k++) {
                conf->redact_first |= 1u << ((unsigned char)default_redact[k][0] & 31);
            }
        }
        else {
            int k;
            for (k = 0; k < conf->redact->nelts; k++) {
                conf->redact_first |= 1u << ((unsigned char)((const char **)conf->redact->elts)[k][0] & 31);
            }
        }
        for (sink = sinks; sink != NULL && strcmp(sink->path, path) != 0; sink = sink->next) {
        }
        if (sink == NULL) {
            sink = apr_pcalloc(pchild, sizeof(*sink));
            sink->path = path;
            sink->fd = -1;
            sink->server = main_server;
            sink->addr.sun_family = AF_UNIX;
            memcpy(sink->addr.sun_path, path, strlen(path) + 1);
            sink->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
            /* The flusher thread shares the sink with the request threads, even under prefork. */
            if ((threaded != AP_MPMQ_NOT_SUPPORTED || batching)
                && apr_thread_mutex_create(&sink->mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                             "mod_reqin_log: cannot create a mutex; records for %s are not sent", path);
                continue;
            }
            if (batching) {
                sink->batch = apr_palloc(pchild, REQIN_BATCH_BYTES);
            }
            sink->next = sinks;
            sinks = sink;
        }
        conf->sink = sink;
    }
    apr_pool_cleanup_register(pchild, NULL, close_sinks, apr_pool_cleanup_null);
    if (sinks == NULL || !batching) {
        return;
    }
    if (apr_thread_mutex_create(&flusher_mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS
        || apr_thread_cond_create(&flusher_cond, pchild) != APR_SUCCESS
        || apr_thread_create(&flusher, NULL, flusher_main, NULL, pchild) != APR_SUCCESS) {
        /* Without the flusher a quiet child's last records wait for its next request. */
        flusher = NULL;
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, main_server,
                     "mod_reqin_log: cannot start the flusher thread; batches are sent by requests only");
    }
    apr_pool_pre_cleanup_register(pchild, NULL, stop_flusher);
}

static int reqin_pre_connection(conn_rec *c, void *csd)
{
    (void)csd;
    if (c->master == NULL) {
        /* The event MPM renumbers c->id when another thread picks the connection up again
         * (the id is a scoreboard slot), so the id at accept time is kept for the records. */
        reqin_conn_state *state = apr_pcalloc(c->pool, sizeof(*state));
        state->id = c->id;
        ap_set_module_config(c->conn_config, &reqin_log_module, state);
    }
    return OK;
}

static int is_redacted(const reqin_server_conf *conf, const char *name)
{
    /* Most headers start with a letter no redacted name starts with (case folded by & 31). */
    if (!(conf->redact_first & (1u << ((unsigned char)name[0] & 31)))) {
        return 0;
    }
    if (conf->redact == NULL) {
        size_t i;
        for (i = 0; i < sizeof(default_redact) / sizeof(default_redact[0]); i++) {
            if (strcasecmp(name, default_redact[i]) == 0) {
                return 1;
            }
        }
    }
    else {
        const char *const *names = (const char *const *)conf->redact->elts;
        int i;
        for (i = 0; i < conf->redact->nelts; i++) {
            if (strcasecmp(name, names[i]) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

#define LIT(b, text) reqin_jb_raw((b), (text), sizeof(text) - 1)

/* ,"key":"value" with a bounded value; NULL values are left out. */
static int put_str_field(reqin_jbuf *b, const char *key_lit, size_t key_len, const char *v,
                         size_t max_out, int *cut)
{
    if (v == NULL) {
        return 1;
    }
    return reqin_jb_raw(b, key_lit, key_len) && reqin_jb_str(b, v, strlen(v), max_out, cut);
}

#define STR_FIELD(b, key, v, max, cut) put_str_field((b), ",\"" key "\":", sizeof(",\"" key "\":") - 1, (v), (max), (cut))
#define NUM_FIELD(b, key, v) (LIT((b), ",\"" key "\":") && reqin_jb_i64((b), (long long)(v)))

static const char *tls_var(request_rec *r, conn_rec *c, const char *name)
{
    const char *v = ap_ssl_var_lookup(r->pool, r->server, c, r, name);
    return v != NULL && *v != '\0' ? v : NULL;
}

/*
 * ,"client_ip":"...","client_port":N,"server_ip":"...","server_port":N
 * The same for every request of an HTTP/1 connection: rendered once into the connection's
 * pool. HTTP/2 streams run on threads of their own, so it is rendered each time there.
 */
static int put_addresses(reqin_jbuf *b, conn_rec *c, conn_rec *mc, reqin_conn_state *state)
{
    char tmp[256], ip[64];
    reqin_jbuf a;
    int cut = 0;

    if (state != NULL && state->addresses != NULL && c == mc) {
        return reqin_jb_raw(b, state->addresses, state->addresses_len);
    }
    a.buf = tmp;
    a.len = 0;
    a.cap = sizeof(tmp);
    apr_sockaddr_ip_getbuf(ip, sizeof(ip), mc->client_addr);
    if (!(STR_FIELD(&a, "client_ip", ip, REQIN_SMALL_FIELD, &cut) && NUM_FIELD(&a, "client_port", mc->client_addr->port))) {
        return 0;
    }
    apr_sockaddr_ip_getbuf(ip, sizeof(ip), mc->local_addr);
    if (!(STR_FIELD(&a, "server_ip", ip, REQIN_SMALL_FIELD, &cut) && NUM_FIELD(&a, "server_port", mc->local_addr->port))) {
        return 0;
    }
    if (state != NULL && c == mc) {
        state->addresses = apr_pmemdup(c->pool, tmp, a.len);
        state->addresses_len = a.len;
    }
    return reqin_jb_raw(b, tmp, a.len);
}

static int reqin_log_transaction(request_rec *r)
{
#ifdef REQIN_PROFILE
    apr_uint64_t prof0 = thread_ns(), prof1, prof2, prof3;
#endif
    const reqin_server_conf *conf = ap_get_module_config(r->server->module_config, &reqin_log_module);
    conn_rec *c = r->connection;
    conn_rec *mc = c->master != NULL ? c->master : c;
    request_rec *last = r;
    reqin_conn_state *state;
    const apr_array_header_t *arr;
    const apr_table_entry_t *h;
    apr_time_t now;
    reqin_jbuf b;
    size_t estimate, max_record, long_field;
    const char *path, *query = NULL, *host = NULL;
    int cut = 0, hcut = 0, i, ok, written = 0;
    apr_uint32_t ka_index = 0;
    long conn_id = mc->id;

    if (conf->enabled != 1 || conf->sink == NULL) {
        return DECLINED;
    }
    /* The parent's "internal dummy connection" wakes idle listeners; it is not traffic. */
    if (r->method_number == M_OPTIONS) {
        const char *ua = apr_table_get(r->headers_in, "User-Agent");
        if (ua != NULL && ap_strstr_c(ua, "(internal dummy connection)") != NULL) {
            return DECLINED;
        }
    }
    while (last->next != NULL) {
        last = last->next;      /* internal redirects: the final status and bytes */
    }
    now = apr_time_now();
    state = ap_get_module_config(mc->conn_config, &reqin_log_module);
    if (state != NULL) {
        ka_index = apr_atomic_inc32(&state->requests);
        conn_id = state->id;
    }

    path = r->parsed_uri.path != NULL ? r->parsed_uri.path : (r->uri != NULL ? r->uri : "");
    if (conf->query_string != 0) {
        query = r->parsed_uri.query;
    }
    max_record = conf->max_record != 0 ? (size_t)conf->max_record : REQIN_DEFAULT_MAX_RECORD;
    long_field = max_record / 4;

    /* Upper bound of the record's length, so that small requests take a small buffer. */
    arr = apr_table_elts(r->headers_in);
    h = (const apr_table_entry_t *)arr->elts;
    estimate = 2048 + REQIN_JSON_STR_MAX(strlen(path)) + (query != NULL ? REQIN_JSON_STR_MAX(strlen(query)) : 0);
    for (i = 0; i < arr->nelts; i++) {
        const char *k = h[i].key;
        if (k == NULL) {
            continue;
        }
        if (host == NULL && (k[0] | 0x20) == 'h' && strcasecmp(k, "Host") == 0) {
            host = h[i].val;
        }
        if (estimate < max_record) {
            estimate += 6 + REQIN_JSON_STR_MAX(strlen(k)) + (h[i].val != NULL ? REQIN_JSON_STR_MAX(strlen(h[i].val)) : 2);
        }
    }
    b.cap = estimate < max_record ? estimate : max_record;
    b.buf = apr_palloc(r->pool, b.cap);
    b.len = 0;

    ok = LIT(&b, "{\"v\":1")
        && NUM_FIELD(&b, "time_us", r->request_time)
        && put_addresses(&b, c, mc, state)
        && STR_FIELD(&b, "vhost", r->server->server_hostname, REQIN_SMALL_FIELD, &cut)
        && STR_FIELD(&b, "method", r->method != NULL ? r->method : "", REQIN_SMALL_FIELD, &cut)
        && STR_FIELD(&b, "path", path, long_field, &cut)
        && STR_FIELD(&b, "query", query, long_field, &cut)
        && STR_FIELD(&b, "protocol", r->protocol != NULL ? r->protocol : "", REQIN_SMALL_FIELD, &cut)
        && STR_FIELD(&b, "host", host, REQIN_SMALL_FIELD, &cut)
        && NUM_FIELD(&b, "status", last->status)
        && NUM_FIELD(&b, "bytes_sent", last->bytes_sent)
        && NUM_FIELD(&b, "duration_us", now - r->request_time)
        && NUM_FIELD(&b, "conn_id", conn_id)
        && NUM_FIELD(&b, "keepalive_index", ka_index);
    if (ok && ap_ssl_conn_is_ssl(mc)) {
        conn_rec *tc = ap_ssl_conn_is_ssl(c) ? c : mc;
        ok = STR_FIELD(&b, "tls_protocol", tls_var(r, tc, "SSL_PROTOCOL"), REQIN_SMALL_FIELD, &cut)
            && STR_FIELD(&b, "tls_cipher", tls_var(r, tc, "SSL_CIPHER"), REQIN_SMALL_FIELD, &cut)
            && STR_FIELD(&b, "tls_sni", tls_var(r, tc, "SSL_TLS_SNI"), REQIN_SMALL_FIELD, &cut);
    }
    ok = ok && LIT(&b, ",\"headers\":[");
    if (!ok || b.cap - b.len < REQIN_TAIL_RESERVE) {
        COUNT(dropped_too_big);     /* cannot happen with REQIN_MIN_RECORD; be safe */
        return OK;
    }

    /* Headers in arrival order, as many as fit; a value that does not fit is cut. */
    b.cap -= REQIN_TAIL_RESERVE;
    for (i = 0; i < arr->nelts && !hcut; i++) {
        size_t mark = b.len;
        const char *val;
        if (h[i].key == NULL) {
            continue;
        }
        val = h[i].val == NULL ? "" : (is_redacted(conf, h[i].key) ? REQIN_REDACTED : h[i].val);
        ok = (written == 0 || LIT(&b, ","))
            && LIT(&b, "[")
            && reqin_jb_str(&b, h[i].key, strlen(h[i].key), REQIN_SMALL_FIELD, &hcut)
            && LIT(&b, ",")
            && b.cap - b.len >= 3;      /* "" and ] */
        if (ok) {
            /* The value takes what is left, keeping one byte for the closing bracket. */
            b.cap -= 1;
            ok = reqin_jb_str(&b, val, strlen(val), (size_t)-1, &hcut);
            b.cap += 1;
        }
        if (!ok) {
            b.len = mark;
            hcut = 1;
            break;
        }
        b.buf[b.len++] = ']';
        written++;
    }
    cut |= hcut;
    b.cap += REQIN_TAIL_RESERVE;
    ok = cut ? LIT(&b, "],\"truncated\":true}") : LIT(&b, "]}");
    if (!ok) {
        COUNT(dropped_too_big);
        return OK;
    }
    if (cut) {
        COUNT(truncated);
    }
#ifdef REQIN_PROFILE
    prof1 = thread_ns();
#endif
    sink_submit(conf->sink, b.buf, b.len, r->server, now);
#ifdef REQIN_PROFILE
    prof2 = thread_ns();
    prof3 = thread_ns();
    ADD(prof_build_ns, prof1 - prof0);
    ADD(prof_send_ns, prof2 - prof1);
    ADD(prof_clock_ns, prof3 - prof2);
    COUNT(prof_calls);
#endif
    maybe_report(r->server, now);
    return OK;
}

static void reqin_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(reqin_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(reqin_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_connection(reqin_pre_connection, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(reqin_log_transaction, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, reqin_status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(reqin_log) = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* per-directory config creator */
    NULL,                       /* per-directory config merger */
    reqin_create_server_conf,   /* server config creator */
    reqin_merge_server_conf,    /* server config merger */
    reqin_cmds,                 /* command table */
    reqin_register_hooks,       /* hook registration */
    0                           /* flags */
};
