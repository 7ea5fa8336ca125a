namespace Ja4.Modules.Detection.Features;

/// <summary>
/// The features of <see cref="FeatureSchema"/> as one ClickHouse query over <c>http_logs</c>
/// (schema/03_http_logs.sql), for a store that holds more traffic than memory should. Column
/// names and order are the schema's, after the entity key (client_ip, ja4, host) and
/// first_seen/last_seen. Parameters: <c>{start:DateTime64(6)}</c>, <c>{end:DateTime64(6)}</c>;
/// <c>${database}</c> is replaced by the storage module's database name.
/// The in-memory <see cref="FeatureExtractor"/> computes the same definitions; docs/detection.md
/// pairs each feature with its expression.
/// </summary>
public static class FeatureSql
{
    public const string Query = """
        WITH
            {start:DateTime64(6)} AS w_start,
            {end:DateTime64(6)} AS w_end,
            greatest(dateDiff('microsecond', w_start, w_end) / 60e6, 1e-9) AS window_minutes,
            base AS
            (
                SELECT
                    time,
                    replaceRegexpOne(IPv6NumToString(client_ip), '^::ffff:([0-9.]+)$', '\\1') AS ip,
                    if(match_status = 'matched', ja4, '') AS ja4,
                    lower(replaceRegexpOne(if(host = '', req_tls_sni, host), ':[0-9]+$', '')) AS host,
                    path, method, status, bytes_sent, protocol, header_signature AS sig,
                    has(arrayMap(x -> lower(x), header_names), 'referer') AS has_referer,
                    has(arrayMap(x -> lower(x), header_names), 'accept-language') AS has_language,
                    has(arrayMap(x -> lower(x), header_names), 'cookie') AS has_cookie,
                    match_status = 'matched' AS tls,
                    transport, sni, alpn, tls_version, user_agent
                FROM ${database}.http_logs
                WHERE time >= w_start AND time < w_end
            ),
            entity AS
            (
                SELECT
                    ip, ja4, host,
                    count() AS n,
                    min(time) AS first_seen,
                    max(time) AS last_seen,
                    log(1 + n / window_minutes) AS log_request_rate,
                    log(1 + uniqExact(path)) AS log_distinct_paths,
                    entropy(path) AS path_entropy,
                    countIf(match(lower(path), '\\.(css|js|mjs|png|jpg|jpeg|gif|svg|ico|webp|avif|woff|woff2|ttf|map)$')) / n AS static_ratio,
                    countIf(status >= 400 AND status < 500) / n AS status_4xx_ratio,
                    countIf(status >= 500 AND status < 600) / n AS status_5xx_ratio,
                    countIf(status IN (401, 403)) / n AS status_401_403_ratio,
                    countIf(method NOT IN ('GET', 'HEAD')) / n AS non_get_ratio,
                    log(1 + avg(bytes_sent)) AS log_mean_bytes,
                    arraySort(groupArray(toUnixTimestamp64Micro(time))) AS ts,
                    arrayMap((a, b) -> (b - a) / 1e6, arrayPopBack(ts), arrayPopFront(ts)) AS gaps,
                    if(length(gaps) = 0, dateDiff('microsecond', w_start, w_end) / 1e6, arrayAvg(gaps)) AS gap_mean,
                    log(1 + gap_mean) AS log_interarrival_mean,
                    if(length(gaps) < 2 OR gap_mean <= 0, 1.0,
                       sqrt(greatest(0, arrayAvg(arrayMap(g -> g * g, gaps)) - gap_mean * gap_mean)) / gap_mean) AS interarrival_cv,
                    countIf(NOT has_referer) / n AS no_referer_ratio,
                    countIf(NOT has_language) / n AS no_accept_language_ratio,
                    countIf(NOT has_cookie) / n AS no_cookie_ratio,
                    uniqExact(user_agent) AS distinct_user_agents,
                    multiIf(anyIf(tls_version, tls) = '1.3', 13, anyIf(tls_version, tls) = '1.2', 12,
                            anyIf(tls_version, tls) = '1.1', 11, anyIf(tls_version, tls) = '1.0', 10, 0) AS tls_version,
                    countIf(tls AND transport = 'tcp' AND has(alpn, 'h2') != startsWith(protocol, 'HTTP/2')) / n AS alpn_mismatch_ratio,
                    countIf(tls AND (sni = '' OR lower(sni) != host)) / n AS sni_mismatch_ratio,
                    topKWeighted(1)(sig, 1)[1] AS top_sig
                FROM base
                GROUP BY ip, ja4, host
            ),
            per_ip AS (SELECT ip, uniqExact(ja4) AS ja4s_per_ip FROM base GROUP BY ip),
            per_sig AS (SELECT sig, count() / (SELECT count() FROM base) AS sig_share FROM base GROUP BY sig),
            per_ja4 AS
            (
                SELECT
                    ja4,
                    count() AS ja4_requests,
                    log(1 + uniqExact(ip)) AS log_ips_per_ja4,
                    countIf(has_language AND (has_referer OR has_cookie)) / ja4_requests AS ja4_browser_share,
                    (row_number() OVER (ORDER BY ja4_requests DESC, ja4 ASC) - 1)
                        / greatest(1, count() OVER () - 1) AS ja4_volume_rank,
                    log(1 + uniqExact(host)) AS log_ja4_hosts,
                    log(1 + uniqExact(path)) AS log_ja4_paths
                FROM base
                GROUP BY ja4
            )
        SELECT
            e.ip AS client_ip, e.ja4 AS ja4, e.host AS host, e.first_seen, e.last_seen, e.n AS requests,
            e.log_request_rate, e.log_distinct_paths, e.path_entropy, e.static_ratio,
            e.status_4xx_ratio, e.status_5xx_ratio, e.status_401_403_ratio, e.non_get_ratio,
            e.log_mean_bytes, e.log_interarrival_mean, e.interarrival_cv,
            e.no_referer_ratio, e.no_accept_language_ratio, e.no_cookie_ratio, e.distinct_user_agents,
            i.ja4s_per_ip, j.log_ips_per_ja4, e.tls_version, e.alpn_mismatch_ratio, e.sni_mismatch_ratio,
            -log10(s.sig_share) AS header_signature_rarity,
            j.ja4_browser_share, j.ja4_volume_rank, j.log_ja4_hosts, j.log_ja4_paths
        FROM entity AS e
        INNER JOIN per_ip AS i ON i.ip = e.ip
        INNER JOIN per_ja4 AS j ON j.ja4 = e.ja4
        INNER JOIN per_sig AS s ON s.sig = e.top_sig
        ORDER BY e.ip, e.ja4, e.host
        """;
}
