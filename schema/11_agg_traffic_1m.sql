-- 11: per-minute traffic per host, match status, TLS version and first offered ALPN, filled from
-- http_logs by a materialized view. A day holds at most 1,440 x (hosts x statuses x versions x
-- ALPN values) rows, so the dashboard's request series with buckets under an hour, its TLS and
-- ALPN mix, its request and error counts and its distinct clients and JA4s (uniq states, merged
-- over the range) read thousands of rows instead of every request or hourly client row.
-- Rows already in http_logs are summed into it once, before the view starts.
-- Rollback: DROP VIEW ${database}.agg_traffic_1m_mv ${on_cluster}; DROP TABLE ${database}.agg_traffic_1m ${on_cluster} SYNC
CREATE TABLE IF NOT EXISTS ${database}.agg_traffic_1m ${on_cluster}
(
    minute        DateTime('UTC') CODEC(Delta, ZSTD(1)),
    host          LowCardinality(String),
    match_status  LowCardinality(String),
    tls_version   LowCardinality(String),
    alpn          LowCardinality(String),
    requests      SimpleAggregateFunction(sum, UInt64),
    bytes_sent    SimpleAggregateFunction(sum, UInt64),
    status_4xx    SimpleAggregateFunction(sum, UInt64),
    status_5xx    SimpleAggregateFunction(sum, UInt64),
    client_ips    AggregateFunction(uniq, IPv6),
    ja4s          AggregateFunction(uniq, String)
)
ENGINE = ${replicated}AggregatingMergeTree
PARTITION BY toYYYYMMDD(minute)
ORDER BY (minute, host, match_status, tls_version, alpn)
TTL minute + toIntervalDay(${ttl_aggregates})
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

INSERT INTO ${database}.agg_traffic_1m
SELECT
    toStartOfMinute(time)                    AS minute,
    host,
    toString(match_status)                   AS match_status,
    tls_version,
    if(empty(alpn), '', alpn[1])             AS alpn,
    count()                                  AS requests,
    sum(bytes_sent)                          AS bytes_sent,
    countIf(status >= 400 AND status < 500)  AS status_4xx,
    countIf(status >= 500 AND status < 600)  AS status_5xx,
    uniqState(client_ip)                     AS client_ips,
    uniqStateIf(toString(ja4), ja4 != '')    AS ja4s
FROM ${database}.http_logs
WHERE (SELECT count() FROM ${database}.agg_traffic_1m) = 0
GROUP BY minute, host, match_status, tls_version, alpn;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.agg_traffic_1m_mv ${on_cluster}
TO ${database}.agg_traffic_1m
AS SELECT
    toStartOfMinute(time)                    AS minute,
    host,
    toString(match_status)                   AS match_status,
    tls_version,
    if(empty(alpn), '', alpn[1])             AS alpn,
    count()                                  AS requests,
    sum(bytes_sent)                          AS bytes_sent,
    countIf(status >= 400 AND status < 500)  AS status_4xx,
    countIf(status >= 500 AND status < 600)  AS status_5xx,
    uniqState(client_ip)                     AS client_ips,
    uniqStateIf(toString(ja4), ja4 != '')    AS ja4s
FROM ${database}.http_logs
GROUP BY minute, host, match_status, tls_version, alpn;
