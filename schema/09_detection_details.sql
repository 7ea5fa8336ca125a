-- 09: what the dashboard shows of each verdict besides the score (combined risk, request count,
-- fired rules, campaign, recurrence), and the campaigns themselves.
-- Rollback: DROP TABLE ${database}.ml_campaigns ${on_cluster} SYNC; then, on ml_all_scores and
-- ml_detected_anomalies, ALTER TABLE ... ${on_cluster} DROP COLUMN risk, DROP COLUMN requests,
-- DROP COLUMN rule_ids, DROP COLUMN campaign_id, DROP COLUMN returning.
ALTER TABLE ${database}.ml_all_scores ${on_cluster}
    ADD COLUMN IF NOT EXISTS risk        Float32 AFTER score,
    ADD COLUMN IF NOT EXISTS requests    UInt32 AFTER risk,
    ADD COLUMN IF NOT EXISTS rule_ids    Array(LowCardinality(String)) AFTER explanation,
    ADD COLUMN IF NOT EXISTS campaign_id String AFTER rule_ids,
    ADD COLUMN IF NOT EXISTS returning   Bool AFTER campaign_id;

ALTER TABLE ${database}.ml_detected_anomalies ${on_cluster}
    ADD COLUMN IF NOT EXISTS risk        Float32 AFTER score,
    ADD COLUMN IF NOT EXISTS requests    UInt32 AFTER risk,
    ADD COLUMN IF NOT EXISTS rule_ids    Array(LowCardinality(String)) AFTER explanation,
    ADD COLUMN IF NOT EXISTS campaign_id String AFTER rule_ids,
    ADD COLUMN IF NOT EXISTS returning   Bool AFTER campaign_id;

-- One row per campaign per detection run; the latest row of an id is its current state
-- (read with argMax(..., time) or LIMIT 1 BY id).
CREATE TABLE IF NOT EXISTS ${database}.ml_campaigns ${on_cluster}
(
    time          DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    id            String,
    key           String CODEC(ZSTD(3)),
    size          UInt32,
    user_agents   UInt32,
    first_seen    DateTime64(3, 'UTC'),
    last_seen     DateTime64(3, 'UTC'),
    risk          Float32,
    threat_level  LowCardinality(String),
    returning     Bool,
    model_version LowCardinality(String),
    members       Array(Tuple(client_ip IPv6, ja4 String, host String)) CODEC(ZSTD(3)),
    INDEX idx_id id TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_threat threat_level TYPE set(16) GRANULARITY 1
)
ENGINE = ${replicated}MergeTree
PARTITION BY toYYYYMMDD(time)
ORDER BY (time, id)
TTL toDateTime(time) + toIntervalDay(${ttl_anomalies})
SETTINGS ttl_only_drop_parts = 1;
