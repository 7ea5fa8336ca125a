using System.Net;
using System.Net.Sockets;
using System.Text;
using Ja4.Modules.Core.Events;
using Microsoft.Extensions.Logging;

namespace Ja4.Modules.Detection.Alerts;

/// <summary>
/// Sends each anomaly as one RFC 5424 message (<see cref="SyslogFormatter"/>): a UDP datagram
/// (RFC 5426), a TCP frame with octet counting (RFC 6587 §3.4.1: <c>LENGTH SP MESSAGE</c>) on a
/// connection kept open and reopened once after a failure, or a datagram to a UNIX socket.
/// </summary>
public sealed class SyslogAlertSink : IAlertSink
{
    private readonly SyslogAlertOptions _options;
    private readonly ILogger _logger;
    private readonly string _hostName = Dns.GetHostName();
    private readonly int _pid = Environment.ProcessId;
    private Socket? _socket;

    public SyslogAlertSink(SyslogAlertOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
    }

    public string Name => "syslog";

    public async Task<bool> SendAsync(Anomaly anomaly, CancellationToken cancellationToken)
    {
        var message = Encoding.UTF8.GetBytes(SyslogFormatter.Format(anomaly, _options.Facility, _hostName, _options.AppName, _pid));
        if (_options.Transport == SyslogTransport.Tcp)
        {
            message = [.. Encoding.ASCII.GetBytes(message.Length + " "), .. message];
        }
        string failure = "";
        // A stream that the server closed fails on the first send: reconnect once.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                var socket = _socket ??= await ConnectAsync(cancellationToken).ConfigureAwait(false);
                await socket.SendAsync(message, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (SocketException e)
            {
                failure = e.Message;
                _socket?.Dispose();
                _socket = null;
            }
        }
        DetectionLog.AlertFailed(_logger, Name, anomaly.ClientIp, failure);
        return false;
    }

    private async Task<Socket> ConnectAsync(CancellationToken cancellationToken)
    {
        Socket socket;
        EndPoint endpoint;
        switch (_options.Transport)
        {
            case SyslogTransport.Unix:
                socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
                endpoint = new UnixDomainSocketEndPoint(_options.SocketPath);
                break;
            default:
                var address = IPAddress.TryParse(_options.Host, out var ip)
                    ? ip
                    : (await Dns.GetHostAddressesAsync(_options.Host, cancellationToken).ConfigureAwait(false)).First();
                socket = _options.Transport == SyslogTransport.Tcp
                    ? new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
                    : new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                endpoint = new IPEndPoint(address, _options.Port);
                break;
        }
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _socket?.Dispose();
}
