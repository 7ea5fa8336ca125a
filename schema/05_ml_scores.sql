-- 05: the detector's output: every score, and the anomalies among them.
-- Rollback: DROP TABLE ${database}.ml_detected_anomalies ${on_cluster} SYNC; DROP TABLE ${database}.ml_all_scores ${on_cluster} SYNC
CREATE TABLE IF NOT EXISTS ${database}.ml_all_scores ${on_cluster}
(
    time          DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    window_start  DateTime('UTC') CODEC(Delta, ZSTD(1)),
    window_end    DateTime('UTC') CODEC(Delta, ZSTD(1)),
    host          LowCardinality(String),
    client_ip     IPv6 CODEC(ZSTD(1)),
    ja4           LowCardinality(String),
    score         Float32,
    threat_level  LowCardinality(String),
    bot_name      LowCardinality(String),
    is_anomaly    Bool,
    model_version LowCardinality(String),
    features      Map(LowCardinality(String), Float64) CODEC(ZSTD(3)),
    explanation   String CODEC(ZSTD(3)),
    INDEX idx_time time TYPE minmax GRANULARITY 1,
    INDEX idx_client_ip client_ip TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_ja4 ja4 TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_threat threat_level TYPE set(16) GRANULARITY 4,
    INDEX idx_bot bot_name TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ${replicated}MergeTree
PARTITION BY toYYYYMMDD(time)
ORDER BY (toStartOfHour(time), client_ip, time)
TTL toDateTime(time) + toIntervalDay(${ttl_scores})
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS ${database}.ml_detected_anomalies ${on_cluster}
(
    time          DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    window_start  DateTime('UTC') CODEC(Delta, ZSTD(1)),
    window_end    DateTime('UTC') CODEC(Delta, ZSTD(1)),
    host          LowCardinality(String),
    client_ip     IPv6 CODEC(ZSTD(1)),
    ja4           LowCardinality(String),
    score         Float32,
    threat_level  LowCardinality(String),
    bot_name      LowCardinality(String),
    model_version LowCardinality(String),
    features      Map(LowCardinality(String), Float64) CODEC(ZSTD(3)),
    explanation   String CODEC(ZSTD(3)),
    INDEX idx_client_ip client_ip TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_ja4 ja4 TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_threat threat_level TYPE set(16) GRANULARITY 1,
    INDEX idx_bot bot_name TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ${replicated}MergeTree
PARTITION BY toYYYYMMDD(time)
ORDER BY (time, client_ip)
TTL toDateTime(time) + toIntervalDay(${ttl_anomalies})
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;
