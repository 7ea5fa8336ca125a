-- 08 (cluster mode only): Distributed tables in front of the replicated local tables, so that
-- reads see every shard. Applied only when Modules:Storage:ClickHouse:Cluster is set.
-- Rollback: DROP TABLE ${database}.<table>_all ${on_cluster} for each table below.
-- cluster-only
CREATE TABLE IF NOT EXISTS ${database}.http_logs_all ${on_cluster} AS ${database}.http_logs
ENGINE = Distributed(${cluster}, ${database}, http_logs, rand());

CREATE TABLE IF NOT EXISTS ${database}.tls_handshakes_all ${on_cluster} AS ${database}.tls_handshakes
ENGINE = Distributed(${cluster}, ${database}, tls_handshakes, rand());

CREATE TABLE IF NOT EXISTS ${database}.agg_host_ip_ja4_1h_all ${on_cluster} AS ${database}.agg_host_ip_ja4_1h
ENGINE = Distributed(${cluster}, ${database}, agg_host_ip_ja4_1h, rand());

CREATE TABLE IF NOT EXISTS ${database}.ml_all_scores_all ${on_cluster} AS ${database}.ml_all_scores
ENGINE = Distributed(${cluster}, ${database}, ml_all_scores, rand());

CREATE TABLE IF NOT EXISTS ${database}.ml_detected_anomalies_all ${on_cluster} AS ${database}.ml_detected_anomalies
ENGINE = Distributed(${cluster}, ${database}, ml_detected_anomalies, rand());

CREATE TABLE IF NOT EXISTS ${database}.agg_host_path_1h_all ${on_cluster} AS ${database}.agg_host_path_1h
ENGINE = Distributed(${cluster}, ${database}, agg_host_path_1h, rand());
