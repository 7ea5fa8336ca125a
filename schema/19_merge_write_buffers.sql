-- 19 (embedded engine only): write buffers that grow with the data.
-- The engine writes each column file of a new part through a compression buffer and a file buffer of 1 MiB each
-- (max_compress_block_size), allocated in full when the part's writer opens. A horizontal merge writes every
-- column at once (agg_host_ip_ja4_1h: 25 columns and its projection's; agg_host_path_1h: 8), an insert likewise, and
-- most columns of a merge of a few seconds of data hold far less than 1 MiB. Adaptive write buffers start at
-- 16 KiB and double as a column needs them, up to the same 1 MiB, so parts and their compression are unchanged; the
-- engine turns them on by itself only for tables of 500 columns or more (min_columns_to_activate_adaptive_write_buffer).
-- Measured with make soak at 5,000 requests/s (system.merges read about twice a second, 300 s runs; docs/BENCHMARKS.md,
-- Soak): the largest merge of agg_host_path_1h went from 41 MB to 25-27 MB, of tls_handshakes from 31 to 23-26 MB;
-- http_logs (44-47 against 48-49 MB) and agg_host_ip_ja4_1h (53-58 against 48-66 MB) are within the spread.
-- A ClickHouse server sizes its own memory and may predate the setting, so this file does not apply there.
-- Rollback: ALTER TABLE ${database}.<table> RESET SETTING min_columns_to_activate_adaptive_write_buffer (for each table
-- below)
-- embedded-only
ALTER TABLE ${database}.http_logs MODIFY SETTING min_columns_to_activate_adaptive_write_buffer = 1;
ALTER TABLE ${database}.tls_handshakes MODIFY SETTING min_columns_to_activate_adaptive_write_buffer = 1;
ALTER TABLE ${database}.agg_host_ip_ja4_1h MODIFY SETTING min_columns_to_activate_adaptive_write_buffer = 1;
ALTER TABLE ${database}.agg_host_path_1h MODIFY SETTING min_columns_to_activate_adaptive_write_buffer = 1;
ALTER TABLE ${database}.agg_traffic_1m MODIFY SETTING min_columns_to_activate_adaptive_write_buffer = 1;
