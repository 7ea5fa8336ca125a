using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Filtering;

namespace Ja4.Modules.Correlation;

/// <summary>
/// Joins recorded traffic — handshakes and connection ends from a capture file, requests from a
/// file of module records — with the same <see cref="ConnectionTable"/> as live traffic. The
/// recorded timestamps are the clock: events are merged in timestamp order and each one's time is
/// the table's <c>now</c>, so the windows (handshake wait, idle timeout, close grace) elapse as
/// they did when the traffic was live, however fast the files are read.
/// </summary>
public sealed class RecordedJoin(ConnectionTable table, IpFilterGate? filter = null)
{
    /// <summary>
    /// Streams the correlated requests. Each input should be in timestamp order (a capture file
    /// is; the table tolerates disorder within its windows). At the end, requests still waiting go
    /// out unmatched.
    /// </summary>
    public IEnumerable<CorrelatedRequest> Run(IEnumerable<TlsClientHello> hellos, IEnumerable<ConnectionClosed> closes,
        IEnumerable<HttpRequest> requests)
    {
        var output = new List<CorrelatedRequest>();
        using var h = hellos.GetEnumerator();
        using var c = closes.GetEnumerator();
        using var r = requests.GetEnumerator();
        bool hasH = h.MoveNext(), hasC = c.MoveNext(), hasR = r.MoveNext();
        var last = DateTimeOffset.MinValue;
        while (hasH || hasC || hasR)
        {
            // Ties: a handshake first (a request at the same instant belongs to it), then requests,
            // then the close (a request stamped at the FIN still belongs to the connection).
            var th = hasH ? h.Current.Timestamp : DateTimeOffset.MaxValue;
            var tr = hasR ? r.Current.Timestamp : DateTimeOffset.MaxValue;
            var tc = hasC ? c.Current.Timestamp : DateTimeOffset.MaxValue;
            DateTimeOffset now;
            if (hasH && th <= tr && th <= tc)
            {
                now = th;
                table.Expire(now, output);
                if (filter?.Admit(h.Current.Flow.ClientIp) ?? true)
                {
                    table.AddHandshake(h.Current, now, output);
                }
                hasH = h.MoveNext();
            }
            else if (hasR && tr <= tc)
            {
                now = tr;
                table.Expire(now, output);
                if (filter?.Admit(r.Current.Flow.ClientIp) ?? true)
                {
                    table.AddRequest(r.Current, now, output);
                }
                hasR = r.MoveNext();
            }
            else
            {
                now = tc;
                table.Expire(now, output);
                if (filter?.Allows(c.Current.Flow.ClientIp) ?? true)
                {
                    table.CloseConnection(c.Current, now);
                }
                hasC = c.MoveNext();
            }
            if (now > last)
            {
                last = now;
            }
            foreach (var o in output)
            {
                yield return o;
            }
            output.Clear();
        }
        table.FlushPending(last, output);
        foreach (var o in output)
        {
            yield return o;
        }
    }
}
