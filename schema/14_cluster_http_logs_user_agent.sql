-- 14 (cluster mode only): the Distributed table follows migration 13's column type.
-- Rollback: ALTER TABLE ${database}.http_logs_all ${on_cluster} MODIFY COLUMN user_agent String
-- cluster-only
ALTER TABLE ${database}.http_logs_all ${on_cluster} MODIFY COLUMN user_agent LowCardinality(String);
