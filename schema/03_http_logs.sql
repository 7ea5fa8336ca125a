-- 03: every HTTP request from the Apache module, joined with its connection's ClientHello.
-- Rollback: DROP TABLE ${database}.http_logs ${on_cluster} SYNC
-- Absent values are stored as defaults ('' for strings, 1970-01-01 for tls_time); match_status
-- says whether the TLS columns describe a handshake.
CREATE TABLE IF NOT EXISTS ${database}.http_logs ${on_cluster}
(
    time                 DateTime64(6, 'UTC') CODEC(Delta, ZSTD(1)),
    client_ip            IPv6 CODEC(ZSTD(1)),
    client_port          UInt16 CODEC(ZSTD(1)),
    server_ip            IPv6 CODEC(ZSTD(1)),
    server_port          UInt16 CODEC(ZSTD(1)),
    method               LowCardinality(String),
    host                 LowCardinality(String),
    vhost                LowCardinality(String),
    path                 String CODEC(ZSTD(3)),
    query                String CODEC(ZSTD(3)),
    protocol             LowCardinality(String),
    status               UInt16,
    bytes_sent           UInt64 CODEC(T64, ZSTD(1)),
    duration_us          UInt64 CODEC(T64, ZSTD(1)),
    connection_id        Int64 CODEC(Delta, ZSTD(1)),
    keepalive_index      UInt32 CODEC(T64, ZSTD(1)),
    user_agent           String CODEC(ZSTD(3)),
    header_names         Array(LowCardinality(String)),
    header_values        Array(String) CODEC(ZSTD(3)),
    header_signature     LowCardinality(String),
    header_signature_raw String CODEC(ZSTD(3)),
    truncated            Bool,
    req_tls_protocol     LowCardinality(String),
    req_tls_cipher       LowCardinality(String),
    req_tls_sni          LowCardinality(String),
    match_status         Enum8('matched' = 0, 'plain_http' = 1, 'no_handshake_seen' = 2, 'capture_disabled' = 3, 'evicted' = 4, 'pending_overflow' = 5),
    correlated_at        DateTime64(6, 'UTC') CODEC(Delta, ZSTD(1)),
    tls_time             DateTime64(6, 'UTC') CODEC(Delta, ZSTD(1)),
    transport            Enum8('tcp' = 0, 'udp' = 1),
    sni                  LowCardinality(String),
    alpn                 Array(LowCardinality(String)),
    tls_version          LowCardinality(String),
    legacy_version       UInt16,
    ja4                  LowCardinality(String),
    ja4_r                String CODEC(ZSTD(3)),
    ja4_o                LowCardinality(String),
    ja4_ro               String CODEC(ZSTD(3)),
    ja3                  LowCardinality(String),
    ja3_full             String CODEC(ZSTD(3)),
    INDEX idx_time time TYPE minmax GRANULARITY 1,
    INDEX idx_client_ip client_ip TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_ja4 ja4 TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_status status TYPE set(64) GRANULARITY 4
)
ENGINE = ${replicated}MergeTree
PARTITION BY toYYYYMMDD(time)
ORDER BY (toStartOfHour(time), client_ip, time)
TTL toDateTime(time) + toIntervalDay(${ttl_http_logs})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;
