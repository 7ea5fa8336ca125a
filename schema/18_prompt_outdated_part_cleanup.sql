-- 18 (embedded engine only): outdated parts removed within seconds instead of minutes.
-- A part replaced by a merge stays in memory as an outdated part (its metadata: columns, checksums, index)
-- until the table's cleanup task removes it. That task paces itself to remove about 150 parts per run
-- (cleanup_thread_preferred_points_per_iteration), waiting up to max_cleanup_delay_period (5 minutes) between
-- runs: at 5,000 requests/s the five tables written on every insert held up to ~1,000 outdated parts at a
-- time, ~30 MB of the engine's memory, in a saw-tooth of a few minutes. Runs 5-11 s apart keep them to a few
-- dozen and the engine's allocated memory flat (docs/BENCHMARKS.md, Soak); an idle table costs one cheap
-- pass every 10 s. The embedded engine removes an outdated part at the first cleanup after it is replaced
-- (old_parts_lifetime 0); a ClickHouse server keeps them 8 minutes for its own reasons, so this file does not
-- apply there.
-- Rollback: ALTER TABLE ${database}.<table> RESET SETTING cleanup_delay_period, max_cleanup_delay_period,
-- cleanup_delay_period_random_add (for each table below)
-- embedded-only
ALTER TABLE ${database}.http_logs MODIFY SETTING cleanup_delay_period = 5, max_cleanup_delay_period = 10,
    cleanup_delay_period_random_add = 1;
ALTER TABLE ${database}.tls_handshakes MODIFY SETTING cleanup_delay_period = 5, max_cleanup_delay_period = 10,
    cleanup_delay_period_random_add = 1;
ALTER TABLE ${database}.agg_host_ip_ja4_1h MODIFY SETTING cleanup_delay_period = 5, max_cleanup_delay_period = 10,
    cleanup_delay_period_random_add = 1;
ALTER TABLE ${database}.agg_host_path_1h MODIFY SETTING cleanup_delay_period = 5, max_cleanup_delay_period = 10,
    cleanup_delay_period_random_add = 1;
ALTER TABLE ${database}.agg_traffic_1m MODIFY SETTING cleanup_delay_period = 5, max_cleanup_delay_period = 10,
    cleanup_delay_period_random_add = 1;
