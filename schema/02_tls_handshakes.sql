-- 02: every TLS/QUIC ClientHello seen on the wire, with its fingerprints.
-- Rollback: DROP TABLE ${database}.tls_handshakes ${on_cluster} SYNC
CREATE TABLE IF NOT EXISTS ${database}.tls_handshakes ${on_cluster}
(
    time           DateTime64(6, 'UTC') CODEC(Delta, ZSTD(1)),
    client_ip      IPv6 CODEC(ZSTD(1)),
    client_port    UInt16 CODEC(ZSTD(1)),
    server_ip      IPv6 CODEC(ZSTD(1)),
    server_port    UInt16 CODEC(ZSTD(1)),
    transport      Enum8('tcp' = 0, 'udp' = 1),
    sni            LowCardinality(String),
    alpn           Array(LowCardinality(String)),
    tls_version    LowCardinality(String),
    legacy_version UInt16,
    ja4            LowCardinality(String),
    ja4_r          String CODEC(ZSTD(3)),
    ja4_o          LowCardinality(String),
    ja4_ro         String CODEC(ZSTD(3)),
    ja3            LowCardinality(String),
    ja3_full       String CODEC(ZSTD(3)),
    INDEX idx_time time TYPE minmax GRANULARITY 1,
    INDEX idx_ja4 ja4 TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_ja3 ja3 TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ${replicated}MergeTree
PARTITION BY toYYYYMMDD(time)
ORDER BY (toStartOfHour(time), client_ip, time)
TTL toDateTime(time) + toIntervalDay(${ttl_tls_handshakes})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;
