-- 12 (cluster mode only): the Distributed table in front of migration 11's per-minute aggregates.
-- Rollback: DROP TABLE ${database}.agg_traffic_1m_all ${on_cluster}
-- cluster-only
CREATE TABLE IF NOT EXISTS ${database}.agg_traffic_1m_all ${on_cluster} AS ${database}.agg_traffic_1m
ENGINE = Distributed(${cluster}, ${database}, agg_traffic_1m, rand());
