namespace Ja4.Modules.Detection.Features;

/// <summary>
/// The features of <see cref="FeatureSchema"/> as one ClickHouse query over <c>http_logs</c>
/// (schema/03_http_logs.sql), for a store that holds more traffic than memory should. Column
/// names and order are the schema's, after the entity key (client_ip, ja4, host) and
/// first_seen/last_seen/requests; after the features come the profile columns the rules and
/// campaigns need (User-Agents with counts, client hints, ALPN, path templates, mean gap).
/// Parameters: <c>{start:Int64}</c>, <c>{end:Int64}</c> (µs since the Unix epoch, half-open);
/// <c>${http_logs}</c> is replaced by the qualified table name.
/// The in-memory <see cref="FeatureExtractor"/> computes the same definitions; docs/detection.md
/// pairs each feature with its expression.
/// </summary>
/// <remarks>
/// <c>http_logs</c> is read twice in full, both times only the columns each pass needs: once
/// grouped by entity (the heavy pass), once for the per-JA4 distinct paths and the per-signature
/// shares. The per-address and per-JA4 population signals are window functions over the entity
/// rows, so the heavy pass is not repeated. The hourly aggregate <c>agg_host_ip_ja4_1h</c> does
/// not pay here: windows are not hour-aligned and it keeps no timing, entropy or header facts.
/// </remarks>
public static class FeatureSql
{
    public const string Query = """
        WITH
            fromUnixTimestamp64Micro({start:Int64}, 'UTC') AS w_start,
            fromUnixTimestamp64Micro({end:Int64}, 'UTC') AS w_end,
            greatest(dateDiff('microsecond', w_start, w_end) / 60e6, 1e-9) AS window_minutes,
            base AS
            (
                SELECT
                    time,
                    client_ip AS ip,
                    if(match_status = 'matched', ja4, '') AS ja4,
                    lower(replaceRegexpOne(if(host = '', req_tls_sni, host), ':[0-9]+$', '')) AS host,
                    path, method, status, bytes_sent, protocol, header_signature AS sig, header_values,
                    arrayMap(x -> lower(x), header_names) AS names,
                    has(names, 'referer') AS has_referer,
                    has(names, 'accept-language') AS has_language,
                    has(names, 'cookie') AS has_cookie,
                    indexOf(names, 'sec-ch-ua') AS i_ch_ua,
                    indexOf(names, 'sec-ch-ua-mobile') AS i_ch_mobile,
                    indexOf(names, 'sec-ch-ua-platform') AS i_ch_platform,
                    (i_ch_ua + i_ch_mobile + i_ch_platform) > 0 AS has_hints,
                    match(lower(path), '\\.(css|js|mjs|png|jpg|jpeg|gif|svg|ico|webp|avif|woff|woff2|ttf|map)$') AS is_static,
                    match_status = 'matched' AS tls,
                    transport, sni, alpn, tls_version, user_agent
                FROM ${http_logs}
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
                    countIf(is_static) / n AS static_ratio,
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
                    argMaxIf(tls_version, time, tls) AS last_tls_version,
                    multiIf(last_tls_version = '1.3', 13, last_tls_version = '1.2', 12,
                            last_tls_version = '1.1', 11, last_tls_version = '1.0', 10, 0) AS tls_version_code,
                    countIf(tls AND transport = 'tcp' AND has(alpn, 'h2') != startsWith(protocol, 'HTTP/2')) / n AS alpn_mismatch_ratio,
                    countIf(tls AND (sni = '' OR lower(sni) != host)) / n AS sni_mismatch_ratio,
                    sumMap([sig], [toUInt64(1)]) AS sig_map,
                    tupleElement(sig_map, 1)[indexOf(tupleElement(sig_map, 2), arrayMax(tupleElement(sig_map, 2)))] AS top_sig,
                    countIf(has_language AND (has_referer OR has_cookie)) AS browser_like,
                    sumMap([user_agent], [toUInt64(1)]) AS ua_map,
                    countIf(has_hints) AS hint_requests,
                    argMinIf((i_ch_ua > 0, header_values[i_ch_ua], i_ch_mobile > 0, header_values[i_ch_mobile],
                              i_ch_platform > 0, header_values[i_ch_platform], user_agent), time, has_hints) AS hint,
                    countIf(tls) > 0 AS has_handshake,
                    argMaxIf(alpn, time, tls) AS last_alpn,
                    argMaxIf(toString(transport), time, tls) AS last_transport,
                    arrayMap(x -> x.2, groupArraySortedIf(8)((time, concat(method, ' ', replaceRegexpAll(path, '[0-9]+', '{n}'))),
                                                            NOT is_static)) AS templates,
                    if(n > 1, gap_mean, 0) AS mean_gap
                FROM base
                GROUP BY ip, ja4, host
            ),
            per_ja4_paths AS (SELECT ja4, log(1 + uniqExact(path)) AS log_ja4_paths FROM base GROUP BY ja4),
            per_sig AS (SELECT sig, count() / sum(count()) OVER () AS sig_share FROM base GROUP BY sig),
            populations AS
            (
                SELECT
                    *,
                    uniqExact(ja4) OVER (PARTITION BY ip) AS ja4s_per_ip,
                    log(1 + uniqExact(ip) OVER (PARTITION BY ja4)) AS log_ips_per_ja4,
                    sum(n) OVER (PARTITION BY ja4) AS ja4_requests,
                    sum(browser_like) OVER (PARTITION BY ja4) / ja4_requests AS ja4_browser_share,
                    log(1 + uniqExact(host) OVER (PARTITION BY ja4)) AS log_ja4_hosts
                FROM entity
            ),
            ranked AS
            (
                SELECT *, dense_rank() OVER (ORDER BY ja4_requests DESC, ja4 ASC) - 1 AS ja4_rank FROM populations
            )
        SELECT
            replaceRegexpOne(IPv6NumToString(e.ip), '^::ffff:([0-9.]+)$', '\\1') AS client_ip, e.ja4 AS ja4, e.host AS host,
            toUnixTimestamp64Micro(e.first_seen) AS first_seen, toUnixTimestamp64Micro(e.last_seen) AS last_seen, e.n AS requests,
            e.log_request_rate, e.log_distinct_paths, e.path_entropy, e.static_ratio,
            e.status_4xx_ratio, e.status_5xx_ratio, e.status_401_403_ratio, e.non_get_ratio,
            e.log_mean_bytes, e.log_interarrival_mean, e.interarrival_cv,
            e.no_referer_ratio, e.no_accept_language_ratio, e.no_cookie_ratio, e.distinct_user_agents,
            e.ja4s_per_ip, e.log_ips_per_ja4, e.tls_version_code AS tls_version, e.alpn_mismatch_ratio, e.sni_mismatch_ratio,
            -log10(s.sig_share) AS header_signature_rarity,
            e.ja4_browser_share, e.ja4_rank / greatest(1, max(e.ja4_rank) OVER ()) AS ja4_volume_rank, e.log_ja4_hosts,
            p.log_ja4_paths,
            tupleElement(e.ua_map, 1) AS ua_names, tupleElement(e.ua_map, 2) AS ua_counts,
            e.hint_requests, tupleElement(e.hint, 1) AS has_ch_ua, tupleElement(e.hint, 2) AS ch_ua, tupleElement(e.hint, 3) AS has_ch_mobile, tupleElement(e.hint, 4) AS ch_mobile,
            tupleElement(e.hint, 5) AS has_ch_platform, tupleElement(e.hint, 6) AS ch_platform, tupleElement(e.hint, 7) AS hint_user_agent,
            e.has_handshake, e.last_alpn AS alpn, e.last_transport AS transport, e.templates, e.mean_gap
        FROM ranked AS e
        INNER JOIN per_ja4_paths AS p ON p.ja4 = e.ja4
        INNER JOIN per_sig AS s ON s.sig = e.top_sig
        ORDER BY first_seen, client_ip, e.ja4, e.host
        """;
}
