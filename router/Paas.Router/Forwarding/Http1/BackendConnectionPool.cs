using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Paas.Router.Forwarding.Http1;

/// <summary>
/// Keep-alive connections to one address that are not in use. Most recently used first, so a quiet
/// period lets the least used ones idle out while the busy ones stay warm.
/// </summary>
public sealed class BackendConnectionPool
{
    // One pool per address, not per table entry: a snapshot swap keeps warm connections, and routes that
    // share an address (several hostnames of one app) share its connections.
    private static readonly ConcurrentDictionary<string, BackendConnectionPool> ByAddress = new();

    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    // More idle connections than this to one instance is a burst that has passed; close the excess.
    private const int MaxIdle = 1024;

    private readonly Lock _lock = new();
    private BackendConnection[] _idle = new BackendConnection[8];
    private int _count;

    public static BackendConnectionPool For(string address) => ByAddress.GetOrAdd(address, static a => new BackendConnectionPool(a));

    private BackendConnectionPool(string address)
    {
        Address = address;
        EndPoint = Parse(address);
        NativeAddress = EndPoint is IPEndPoint ip ? FrontEnd.Libc.SockAddr(ip) : null;
    }

    public string Address { get; }

    public EndPoint EndPoint { get; }

    /// <summary>The kernel's sockaddr for <see cref="EndPoint"/>, for the front end's own connects; null for a DNS name.</summary>
    internal byte[]? NativeAddress { get; }

    internal int IdleCount
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>An idle connection, or null when a new one must be opened.</summary>
    public BackendConnection? TryRent()
    {
        lock (_lock)
        {
            while (_count > 0)
            {
                var connection = _idle[--_count];
                _idle[_count] = null!;
                if (connection.TryActivate())
                {
                    return connection;
                }
            }
        }

        return null;
    }

    public void Return(BackendConnection connection)
    {
        connection.MarkIdle();
        lock (_lock)
        {
            if (_count < MaxIdle)
            {
                if (_count == _idle.Length)
                {
                    Array.Resize(ref _idle, _idle.Length * 2);
                }

                _idle[_count++] = connection;
                return;
            }
        }

        connection.Dispose();
    }

    /// <summary>
    /// Forgets a connection the monitor closed while it idled here. Without this, an address nobody sends to
    /// any more (the instance was replaced) would keep its closed connections, and their buffers, forever.
    /// </summary>
    internal void Remove(BackendConnection connection)
    {
        lock (_lock)
        {
            var index = Array.IndexOf(_idle, connection, 0, _count);
            if (index >= 0)
            {
                _idle[index] = _idle[--_count];
                _idle[_count] = null!;
            }
        }
    }

    /// <summary>Opens a new connection; throws <see cref="SocketException"/> or, after <see cref="ConnectTimeout"/>, <see cref="TimeoutException"/>.</summary>
    public async ValueTask<BackendConnection> ConnectAsync(BackendConnectionMonitor monitor)
    {
        // An IPv4 socket for an IPv4 instance: a dual-mode IPv6 socket would carry every packet as a mapped address.
        var socket = EndPoint is IPEndPoint ip
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }
            : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = new CancellationTokenSource(ConnectTimeout);
        try
        {
            await socket.ConnectAsync(EndPoint, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"Connecting to {Address} took longer than {ConnectTimeout.TotalSeconds:0} s.");
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new BackendConnection(socket, this, monitor, Environment.TickCount64);
        monitor.Watch(connection);
        return connection;
    }

    private static EndPoint Parse(string address)
    {
        if (IPEndPoint.TryParse(address, out var ip) && ip.Port != 0)
        {
            return ip;
        }

        var colon = address.LastIndexOf(':');
        return new DnsEndPoint(address[..colon], int.Parse(address.AsSpan(colon + 1), CultureInfo.InvariantCulture));
    }
}
