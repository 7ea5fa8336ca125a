-- 17 (cluster mode only): the Distributed table follows migration 16's columns.
-- Rollback: ALTER TABLE ${database}.agg_host_ip_ja4_1h_all ${on_cluster} DROP COLUMN distinct_paths, DROP COLUMN distinct_user_agents
-- cluster-only
ALTER TABLE ${database}.agg_host_ip_ja4_1h_all ${on_cluster}
    ADD COLUMN IF NOT EXISTS distinct_paths AggregateFunction(uniqCombined(12), String),
    ADD COLUMN IF NOT EXISTS distinct_user_agents AggregateFunction(uniqCombined(12), String),
    DROP COLUMN IF EXISTS client_ports,
    DROP COLUMN IF EXISTS header_signatures;
