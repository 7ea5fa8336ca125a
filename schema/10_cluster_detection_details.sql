-- 10 (cluster mode only): the Distributed tables follow migration 09.
-- Rollback: DROP TABLE ${database}.ml_campaigns_all ${on_cluster}; the columns as in 09 on the _all tables.
-- cluster-only
ALTER TABLE ${database}.ml_all_scores_all ${on_cluster}
    ADD COLUMN IF NOT EXISTS risk        Float32 AFTER score,
    ADD COLUMN IF NOT EXISTS requests    UInt32 AFTER risk,
    ADD COLUMN IF NOT EXISTS rule_ids    Array(LowCardinality(String)) AFTER explanation,
    ADD COLUMN IF NOT EXISTS campaign_id String AFTER rule_ids,
    ADD COLUMN IF NOT EXISTS returning   Bool AFTER campaign_id;

ALTER TABLE ${database}.ml_detected_anomalies_all ${on_cluster}
    ADD COLUMN IF NOT EXISTS risk        Float32 AFTER score,
    ADD COLUMN IF NOT EXISTS requests    UInt32 AFTER risk,
    ADD COLUMN IF NOT EXISTS rule_ids    Array(LowCardinality(String)) AFTER explanation,
    ADD COLUMN IF NOT EXISTS campaign_id String AFTER rule_ids,
    ADD COLUMN IF NOT EXISTS returning   Bool AFTER campaign_id;

CREATE TABLE IF NOT EXISTS ${database}.ml_campaigns_all ${on_cluster} AS ${database}.ml_campaigns
ENGINE = Distributed(${cluster}, ${database}, ml_campaigns, rand());
