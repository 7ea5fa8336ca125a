-- 16: bounded distinct-count states in agg_host_ip_ja4_1h.
-- Its uniq states are hash sets that grow with the values they see, up to 65,536 of them (512 KiB
-- a state), per hour x host x client IP x JA4, and every merge of the table deserialises the
-- states of every row it reads. client_ports grows with every new connection and
-- header_signatures with every rotation of a client's headers, so the clients that cost the most
-- are the hostile ones (a scanner walking paths, a bot rotating headers or User-Agents); at
-- 5,000 requests/s the table's merges measured 40 MB early in an hour and 160-176 MB late in it.
-- - client_ports is dropped: nothing reads it, and the number of connections it estimated is
--   exact as requests - keepalive_reused.
-- - header_signatures is dropped: nothing reads it; detection reads header signatures from
--   http_logs (header_signature_rarity, detection.md).
-- - paths and user_agents are no longer written: distinct_paths and distinct_user_agents hold
--   uniqCombined(12) states instead: exact while small (a few hundred values), then a
--   4,096-cell HyperLogLog (3 KiB, about 1.6 % standard error) however many values a client sends.
--   Rows written before this migration keep their uniq states in paths and user_agents (new rows
--   hold empty ones there): readers take greatest(uniqMerge(paths), uniqCombinedMerge(12)(distinct_paths)),
--   exact per hour except the hour of the upgrade, which counts the larger of its two halves.
-- Columns are added and dropped as metadata; the dropped columns' files leave existing parts
-- through a light mutation.
-- Rollback: ALTER TABLE ${database}.agg_host_ip_ja4_1h_mv ${on_cluster} MODIFY QUERY <migration 04's SELECT, without the
-- dropped columns>; ALTER TABLE ${database}.agg_host_ip_ja4_1h ${on_cluster} DROP COLUMN distinct_paths, DROP COLUMN distinct_user_agents
ALTER TABLE ${database}.agg_host_ip_ja4_1h ${on_cluster}
    ADD COLUMN IF NOT EXISTS distinct_paths AggregateFunction(uniqCombined(12), String),
    ADD COLUMN IF NOT EXISTS distinct_user_agents AggregateFunction(uniqCombined(12), String);

ALTER TABLE ${database}.agg_host_ip_ja4_1h_mv ${on_cluster} MODIFY QUERY
SELECT
    toStartOfHour(time)                             AS hour,
    host,
    client_ip,
    ja4,
    count()                                         AS requests,
    min(time)                                       AS first_seen,
    max(time)                                       AS last_seen,
    sum(bytes_sent)                                 AS bytes_sent,
    sum(duration_us)                                AS duration_us,
    countIf(status >= 100 AND status < 200)         AS status_1xx,
    countIf(status >= 200 AND status < 300)         AS status_2xx,
    countIf(status >= 300 AND status < 400)         AS status_3xx,
    countIf(status >= 400 AND status < 500)         AS status_4xx,
    countIf(status >= 500 AND status < 600)         AS status_5xx,
    countIf(method = 'GET')                         AS method_get,
    countIf(method = 'POST')                        AS method_post,
    countIf(method = 'HEAD')                        AS method_head,
    countIf(method NOT IN ('GET', 'POST', 'HEAD'))  AS method_other,
    countIf(user_agent = '')                        AS no_user_agent,
    countIf(match_status = 'matched')               AS tls_matched,
    countIf(keepalive_index > 0)                    AS keepalive_reused,
    uniqCombinedState(12)(path)                     AS distinct_paths,
    uniqCombinedState(12)(user_agent)               AS distinct_user_agents
FROM ${database}.http_logs
GROUP BY hour, host, client_ip, ja4;

ALTER TABLE ${database}.agg_host_ip_ja4_1h ${on_cluster}
    DROP COLUMN IF EXISTS client_ports,
    DROP COLUMN IF EXISTS header_signatures;
