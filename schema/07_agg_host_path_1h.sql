-- 07: hourly aggregates per host x path, filled from http_logs by a materialized view
-- (the dashboard's top paths without scanning every request).
-- Rollback: DROP VIEW ${database}.agg_host_path_1h_mv ${on_cluster}; DROP TABLE ${database}.agg_host_path_1h ${on_cluster} SYNC
CREATE TABLE IF NOT EXISTS ${database}.agg_host_path_1h ${on_cluster}
(
    hour        DateTime('UTC'),
    host        LowCardinality(String),
    path        String CODEC(ZSTD(3)),
    requests    SimpleAggregateFunction(sum, UInt64),
    bytes_sent  SimpleAggregateFunction(sum, UInt64),
    status_4xx  SimpleAggregateFunction(sum, UInt64),
    status_5xx  SimpleAggregateFunction(sum, UInt64),
    client_ips  AggregateFunction(uniq, IPv6)
)
ENGINE = ${replicated}AggregatingMergeTree
PARTITION BY toYYYYMMDD(hour)
ORDER BY (hour, host, path)
TTL hour + toIntervalDay(${ttl_aggregates})
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.agg_host_path_1h_mv ${on_cluster}
TO ${database}.agg_host_path_1h
AS SELECT
    toStartOfHour(time)                      AS hour,
    host,
    path,
    count()                                  AS requests,
    sum(bytes_sent)                          AS bytes_sent,
    countIf(status >= 400 AND status < 500)  AS status_4xx,
    countIf(status >= 500 AND status < 600)  AS status_5xx,
    uniqState(client_ip)                     AS client_ips
FROM ${database}.http_logs
GROUP BY hour, host, path;
