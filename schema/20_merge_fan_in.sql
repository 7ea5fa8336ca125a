-- 20 (embedded engine only): at most three parts per merge on the five tables written at every insert.
-- A merge reads every source part at once: a granule of each part's columns (a horizontal merge reads all its
-- columns together, a vertical one the sorting key's, then each other column in turn), each through its own read
-- and decompression buffers. The engine's default of up to 100 parts per merge let a merge of a grown store take
-- 7-9 parts together: at 5,000 requests/s the largest merges measured 40-56 MB (http_logs), 50-85 MB (the per-client
-- hourly aggregate, whose distinct-count sketches are ~3 KiB a row), 22-33 MB (the per-path aggregate), and the
-- daemon's resident size passed 400 MB for a moment during them. Three parts at a time keeps each merge to three
-- parts' worth (make soak, docs/BENCHMARKS.md, Soak: the largest merge per table 17-34 MB, 45 MB for the per-client
-- aggregate over 30 minutes; the 10-minute high-water mark 381-396 MB against 404-423 MB) at the price of one more
-- merge level: each row is rewritten more often (the same CPU in 10-minute runs, 0.73 against 0.62-0.69 core over 30).
-- tls_handshakes also becomes a wide part from 4 MiB instead of 10 MiB: a merge of three one-second parts (~2.5 MiB
-- each) would otherwise give a compact part, merged horizontally (all columns at once, 28-36 MB measured); as a wide
-- part it merges vertically (4-24 MB). Parts written by an insert stay compact.
-- A ClickHouse server sizes its own memory and merges, so this file does not apply there.
-- Rollback: ALTER TABLE ${database}.<table> RESET SETTING max_parts_to_merge_at_once (for each table below);
-- ALTER TABLE ${database}.tls_handshakes RESET SETTING min_bytes_for_wide_part
-- embedded-only
ALTER TABLE ${database}.http_logs MODIFY SETTING max_parts_to_merge_at_once = 3;
ALTER TABLE ${database}.tls_handshakes MODIFY SETTING max_parts_to_merge_at_once = 3, min_bytes_for_wide_part = 4194304;
ALTER TABLE ${database}.agg_host_ip_ja4_1h MODIFY SETTING max_parts_to_merge_at_once = 3;
ALTER TABLE ${database}.agg_host_path_1h MODIFY SETTING max_parts_to_merge_at_once = 3;
ALTER TABLE ${database}.agg_traffic_1m MODIFY SETTING max_parts_to_merge_at_once = 3;
