-- 06: known JA4 fingerprints (JA4 -> application, library, category, source) and a dictionary over them.
-- Rollback: DROP DICTIONARY ${database}.known_fingerprints_dict ${on_cluster}; DROP TABLE ${database}.known_fingerprints ${on_cluster} SYNC
CREATE TABLE IF NOT EXISTS ${database}.known_fingerprints ${on_cluster}
(
    ja4         String,
    application LowCardinality(String),
    library     LowCardinality(String),
    device      LowCardinality(String),
    os          LowCardinality(String),
    category    LowCardinality(String),
    source      LowCardinality(String),
    notes       String,
    updated_at  DateTime('UTC')
)
ENGINE = ${replicated}ReplacingMergeTree(updated_at)
ORDER BY ja4;

CREATE DICTIONARY IF NOT EXISTS ${database}.known_fingerprints_dict ${on_cluster}
(
    ja4         String,
    application String DEFAULT '',
    library     String DEFAULT '',
    device      String DEFAULT '',
    os          String DEFAULT '',
    category    String DEFAULT '',
    source      String DEFAULT ''
)
PRIMARY KEY ja4
SOURCE(CLICKHOUSE(DB '${database}' TABLE 'known_fingerprints'))
LIFETIME(MIN 60 MAX 300)
LAYOUT(COMPLEX_KEY_HASHED());
