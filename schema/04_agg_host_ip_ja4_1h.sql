-- 04: hourly aggregates per host x client IP x JA4, filled from http_logs by a materialized view.
-- Rollback: DROP VIEW ${database}.agg_host_ip_ja4_1h_mv ${on_cluster}; DROP TABLE ${database}.agg_host_ip_ja4_1h ${on_cluster} SYNC
CREATE TABLE IF NOT EXISTS ${database}.agg_host_ip_ja4_1h ${on_cluster}
(
    hour                   DateTime('UTC'),
    host                   LowCardinality(String),
    client_ip              IPv6,
    ja4                    LowCardinality(String),
    requests               SimpleAggregateFunction(sum, UInt64),
    first_seen             SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen              SimpleAggregateFunction(max, DateTime64(6, 'UTC')),
    bytes_sent             SimpleAggregateFunction(sum, UInt64),
    duration_us            SimpleAggregateFunction(sum, UInt64),
    status_1xx             SimpleAggregateFunction(sum, UInt64),
    status_2xx             SimpleAggregateFunction(sum, UInt64),
    status_3xx             SimpleAggregateFunction(sum, UInt64),
    status_4xx             SimpleAggregateFunction(sum, UInt64),
    status_5xx             SimpleAggregateFunction(sum, UInt64),
    method_get             SimpleAggregateFunction(sum, UInt64),
    method_post            SimpleAggregateFunction(sum, UInt64),
    method_head            SimpleAggregateFunction(sum, UInt64),
    method_other           SimpleAggregateFunction(sum, UInt64),
    no_user_agent          SimpleAggregateFunction(sum, UInt64),
    tls_matched            SimpleAggregateFunction(sum, UInt64),
    keepalive_reused       SimpleAggregateFunction(sum, UInt64),
    paths                  AggregateFunction(uniq, String),
    user_agents            AggregateFunction(uniq, String),
    header_signatures      AggregateFunction(uniq, String),
    client_ports           AggregateFunction(uniq, UInt16),
    PROJECTION by_client_ip
    (
        SELECT * ORDER BY client_ip, hour
    )
)
ENGINE = ${replicated}AggregatingMergeTree
PARTITION BY toYYYYMMDD(hour)
ORDER BY (hour, host, ja4, client_ip)
TTL hour + toIntervalDay(${ttl_aggregates})
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000,
         deduplicate_merge_projection_mode = 'rebuild';

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.agg_host_ip_ja4_1h_mv ${on_cluster}
TO ${database}.agg_host_ip_ja4_1h
AS SELECT
    toStartOfHour(time)                             AS hour,
    host,
    client_ip,
    ja4,
    count()                                         AS requests,
    min(time)                                       AS first_seen,
    max(time)                                       AS last_seen,
    sum(bytes_sent)                                 AS bytes_sent,
    sum(duration_us)                                AS duration_us,
    countIf(status >= 100 AND status < 200)         AS status_1xx,
    countIf(status >= 200 AND status < 300)         AS status_2xx,
    countIf(status >= 300 AND status < 400)         AS status_3xx,
    countIf(status >= 400 AND status < 500)         AS status_4xx,
    countIf(status >= 500 AND status < 600)         AS status_5xx,
    countIf(method = 'GET')                         AS method_get,
    countIf(method = 'POST')                        AS method_post,
    countIf(method = 'HEAD')                        AS method_head,
    countIf(method NOT IN ('GET', 'POST', 'HEAD'))  AS method_other,
    countIf(user_agent = '')                        AS no_user_agent,
    countIf(match_status = 'matched')               AS tls_matched,
    countIf(keepalive_index > 0)                    AS keepalive_reused,
    uniqState(path)                                 AS paths,
    uniqState(user_agent)                           AS user_agents,
    uniqState(header_signature)                     AS header_signatures,
    uniqState(client_port)                          AS client_ports
FROM ${database}.http_logs
GROUP BY hour, host, client_ip, ja4;
