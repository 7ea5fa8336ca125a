-- 01: the database and the record of applied migrations.
-- Rollback: DROP DATABASE ${database} ${on_cluster} (removes everything).
CREATE DATABASE IF NOT EXISTS ${database} ${on_cluster};

CREATE TABLE IF NOT EXISTS ${database}.schema_migrations ${on_cluster}
(
    version     UInt32,
    name        String,
    checksum    String,
    applied_at  DateTime64(3, 'UTC'),
    duration_ms UInt64
)
ENGINE = ${replicated}MergeTree
ORDER BY version;
