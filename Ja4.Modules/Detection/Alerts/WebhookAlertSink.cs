using System.Net;
using System.Net.Http.Headers;
using Ja4.Modules.Core.Events;
using Microsoft.Extensions.Logging;

namespace Ja4.Modules.Detection.Alerts;

/// <summary>
/// POSTs each anomaly as JSON (<see cref="AnomalyJson"/>) to <c>Alerts:Webhook:Url</c>. Network
/// errors, timeouts, 408, 429 and 5xx answers are retried with exponential back-off (the clock is
/// the <see cref="TimeProvider"/>); other answers are final. A 2xx answer is a delivery.
/// </summary>
public sealed class WebhookAlertSink : IAlertSink
{
    private readonly WebhookAlertOptions _options;
    private readonly HttpClient _client;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public WebhookAlertSink(WebhookAlertOptions options, TimeProvider time, ILogger logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public string Name => "webhook";

    public async Task<bool> SendAsync(Anomaly anomaly, CancellationToken cancellationToken)
    {
        var body = AnomalyJson.Serialize(anomaly);
        var delay = _options.RetryDelay;
        string failure = "";
        for (var attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            if (attempt > 1)
            {
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
            using var request = new HttpRequestMessage(HttpMethod.Post, _options.Url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            foreach (var (name, value) in _options.Headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.Timeout);
            try
            {
                using var response = await _client.SendAsync(request, timeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
                failure = $"HTTP {(int)response.StatusCode}";
                if (!Retryable(response.StatusCode))
                {
                    break;
                }
            }
            catch (HttpRequestException e)
            {
                failure = e.Message;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                failure = $"no answer within {_options.Timeout}";
            }
        }
        DetectionLog.AlertFailed(_logger, Name, anomaly.ClientIp, failure);
        return false;
    }

    private static bool Retryable(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    public void Dispose() => _client.Dispose();
}
