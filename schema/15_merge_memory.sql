-- 15: bounded memory for the engine's background merges of the wide tables.
-- A horizontal merge reads every column of every source part at once, each through its own read
-- and decompression buffers (up to 1 MiB each): merges of six http_logs parts (40 columns)
-- measured 217-227 MB at 5,000 requests/s, with about 220 more open files and +60 to +150 MB of
-- resident memory for a second. A vertical merge reads the sorting key first, then one
-- column at a time: the same merges measured 5 to 33 MB. Blocks read during a merge are also
-- capped at 2 MiB (10 MiB by default), which bounds the rows held per source part when rows are wide.
-- Queries and inserts are unchanged; parts keep their format. Merges take a little longer (several
-- passes over the parts) and use a fraction of the memory.
-- Rollback: ALTER TABLE ${database}.http_logs ${on_cluster} RESET SETTING merge_max_block_size_bytes, vertical_merge_algorithm_min_rows_to_activate, vertical_merge_algorithm_min_columns_to_activate
-- (the same for tls_handshakes)
ALTER TABLE ${database}.http_logs ${on_cluster} MODIFY SETTING merge_max_block_size_bytes = 2097152,
    vertical_merge_algorithm_min_rows_to_activate = 1, vertical_merge_algorithm_min_columns_to_activate = 1;
ALTER TABLE ${database}.tls_handshakes ${on_cluster} MODIFY SETTING merge_max_block_size_bytes = 2097152,
    vertical_merge_algorithm_min_rows_to_activate = 1, vertical_merge_algorithm_min_columns_to_activate = 1;
