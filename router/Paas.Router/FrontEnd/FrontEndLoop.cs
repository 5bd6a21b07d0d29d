using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Text;
using Paas.Router.Forwarding;
using Paas.Router.Forwarding.Http1;
using Paas.Router.Health;
using Paas.Router.Observability;
using Paas.Router.Table;
using static Paas.Router.FrontEnd.Libc;

namespace Paas.Router.FrontEnd;

/// <summary>
/// One thread's event loop on the public port, in nginx's worker model: its own SO_REUSEPORT listener,
/// epoll set, client connections and keep-alive connections to apps, driven by non-blocking
/// recv/send/epoll_wait with no async machinery, thread hops or locks in between. It forwards the lean
/// requests (<see cref="LeanRequest"/>) itself, under the same rules as the general path
/// (<see cref="ProxyHandler"/>): balancing policy, passive health, safe retries, per-app timeouts,
/// X-Forwarded-*, request ids, error pages, access log and metrics. Every other connection (a body, an
/// upgrade, HTTP/1.0, an unknown host, a sticky app, anything unusual) is handed to Kestrel whole,
/// from the first byte of the request it could not take, and from then on the loop only relays bytes.
/// </summary>
internal sealed unsafe class FrontEndLoop
{
    private const int MaxAttempts = RetryRule.MaxAttempts;
    private const int TickMs = 100;
    private const long ConnectTimeoutMs = 5000;
    private const long KeepAliveTimeoutMs = 130_000;
    private const long HeadTimeoutMs = 30_000;
    private static readonly byte[][] StatusLines = new byte[1000][];

    private readonly int _epoll;
    private readonly int _listener;
    private readonly byte[] _handoffAddress;
    private readonly string _localAddress;
    private readonly int _localPort;
    private readonly int _maxHead;
    private readonly long _defaultTimeoutMs;
    private readonly RouteTableStore _store;
    private readonly PassiveHealth _health;
    private readonly RouterMetrics _metrics;
    private readonly AccessLog _accessLog;
    private readonly ILogger _logger;
    private readonly Dictionary<BackendConnectionPool, List<BackendLink>> _idle = [];
    private Channel?[] _channels = new Channel?[1024];
    private uint _nextId = 1;
    private byte[] _stage = new byte[48 * 1024];
    private int _staged;
    private long _lastTick;
    private volatile bool _stopping;
    private bool _acceptPaused;

    public FrontEndLoop(int listener, byte[] handoffAddress, IPEndPoint local, RouterSettings settings, RouteTableStore store,
        PassiveHealth health, RouterMetrics metrics, AccessLog accessLog, ILogger logger)
    {
        _listener = listener;
        _handoffAddress = handoffAddress;
        _localAddress = local.Address.ToString();
        _localPort = local.Port;
        _maxHead = settings.MaxHeaderBytes + 8 * 1024;
        _defaultTimeoutMs = (long)settings.BackendTimeout.TotalMilliseconds;
        _store = store;
        _health = health;
        _metrics = metrics;
        _accessLog = accessLog;
        _logger = logger;
        _epoll = epoll_create1(0x80000);
        if (_epoll < 0)
        {
            throw new IOException($"epoll_create1 failed (errno {Errno})");
        }

        var ev = new EpollEvent { Events = EpollIn, Data = uint.MaxValue };
        epoll_ctl(_epoll, EpollCtlAdd, _listener, &ev);
    }

    public void Stop() => _stopping = true;

    public void Run()
    {
        var events = new EpollEvent[256];
        fixed (EpollEvent* ready = events)
        {
            while (!_stopping)
            {
                var count = epoll_wait(_epoll, ready, events.Length, TickMs);
                for (var i = 0; i < count; i++)
                {
                    var data = ready[i].Data;
                    if (data == uint.MaxValue)
                    {
                        Guarded(AcceptAll);
                        continue;
                    }

                    var fd = (int)(data & 0xFFFFFFFF);
                    var channel = fd < _channels.Length ? _channels[fd] : null;
                    if (channel is null || channel.Id != (uint)(data >> 32))
                    {
                        continue;
                    }

                    try
                    {
                        Dispatch(channel, ready[i].Events);
                    }
                    catch (Exception ex)
                    {
                        // A bug must cost one connection, not the loop and every connection on it.
                        _logger.LogError(ex, "Front end: unexpected failure handling a connection; closing it");
                        CloseChannelAndPeers(channel);
                    }
                }

                var now = Environment.TickCount64;
                if (now - _lastTick >= TickMs)
                {
                    _lastTick = now;
                    Guarded(() => CheckTimeouts(now));
                }
            }
        }

        foreach (var channel in _channels)
        {
            if (channel is not null)
            {
                CloseChannelAndPeers(channel);
            }
        }

        close(_listener);
        close(_epoll);
    }

    /// <summary>Runs loop-wide work so that a bug in it is logged rather than ending the thread and every connection on it.</summary>
    private void Guarded(Action work)
    {
        try
        {
            work();
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Front end: unexpected failure in the event loop");
        }
    }

    private void Dispatch(Channel channel, uint events)
    {
        switch (channel)
        {
            case ClientConnection client:
                OnClient(client, events);
                break;
            case BackendLink link:
                OnBackend(link, events);
                break;
            case KestrelLink kestrel:
                OnKestrel(kestrel, events);
                break;
        }
    }

    // ---- Connections and epoll bookkeeping ----

    private void AcceptAll()
    {
        var address = stackalloc byte[128];
        while (true)
        {
            var length = 128;
            var fd = accept4(_listener, address, &length, SockNonBlock | SockCloExec);
            if (fd < 0)
            {
                var errno = Errno;
                if (errno is EMFile or ENFile)
                {
                    // Out of descriptors: the listener would stay readable and spin this loop. Stop accepting
                    // for a tick (connections wait in the backlog) and say so once per pause.
                    _logger.LogWarning("Front end: out of file descriptors; pausing accepts for {Ms} ms", TickMs);
                    SetListenerInterest(0);
                    _acceptPaused = true;
                }

                return;
            }

            SetOption(fd, IpProtoTcp, TcpNoDelay, 1);
            var peer = ReadSockAddr(new ReadOnlySpan<byte>(address, length));
            var client = new ClientConnection(fd, _nextId++, peer, Encoding.ASCII.GetBytes(peer?.Address.ToString() ?? "unknown"))
            {
                LastActivity = Environment.TickCount64,
            };
            _metrics.ConnectionOpened();
            Register(client);
        }
    }

    private void SetListenerInterest(uint events)
    {
        var ev = new EpollEvent { Events = events, Data = uint.MaxValue };
        epoll_ctl(_epoll, EpollCtlMod, _listener, &ev);
    }

    private void Register(Channel channel)
    {
        if (channel.Fd >= _channels.Length)
        {
            Array.Resize(ref _channels, Math.Max(_channels.Length * 2, channel.Fd + 1));
        }

        _channels[channel.Fd] = channel;
        channel.Registered = channel.Interest;
        var ev = new EpollEvent { Events = channel.Registered, Data = ((ulong)channel.Id << 32) | (uint)channel.Fd };
        epoll_ctl(_epoll, EpollCtlAdd, channel.Fd, &ev);
    }

    /// <summary>Brings the epoll mask in line with what the channel now wants (level-triggered: nothing is missed).</summary>
    private void Refresh(Channel? channel)
    {
        if (channel is null || channel.Closed)
        {
            return;
        }

        var interest = channel.Interest;
        if (interest != channel.Registered)
        {
            channel.Registered = interest;
            var ev = new EpollEvent { Events = interest, Data = ((ulong)channel.Id << 32) | (uint)channel.Fd };
            epoll_ctl(_epoll, EpollCtlMod, channel.Fd, &ev);
        }
    }

    private void Close(Channel channel)
    {
        if (channel.Closed)
        {
            return;
        }

        channel.Closed = true;
        epoll_ctl(_epoll, EpollCtlDel, channel.Fd, null);
        _channels[channel.Fd] = null;
        close(channel.Fd);
        if (channel is ClientConnection)
        {
            _metrics.ConnectionClosed();
        }
    }

    private void CloseChannelAndPeers(Channel channel)
    {
        switch (channel)
        {
            case ClientConnection client:
                CloseClient(client);
                break;
            case BackendLink { Client: { } client }:
                AbortExchange(client, RouterErrorPage.EndpointFailure);
                break;
            case KestrelLink kestrel:
                CloseClient(kestrel.Client);
                break;
            default:
                Close(channel);
                break;
        }
    }

    /// <summary>Sends now what the socket takes and queues the rest; false when the peer is gone.</summary>
    private static bool Send(Channel channel, ReadOnlySpan<byte> bytes)
    {
        if (channel.HasPendingOutput)
        {
            channel.Enqueue(bytes);
            return true;
        }

        while (!bytes.IsEmpty)
        {
            nint sent;
            fixed (byte* start = bytes)
            {
                sent = send(channel.Fd, start, bytes.Length, MsgNoSignal);
            }

            if (sent > 0)
            {
                bytes = bytes[(int)sent..];
                continue;
            }

            var errno = Errno;
            if (sent < 0 && errno == EIntr)
            {
                continue;
            }

            if (sent < 0 && errno == EAgain)
            {
                channel.Enqueue(bytes);
                return true;
            }

            return false;
        }

        return true;
    }

    /// <summary>Sends queued bytes; false when the peer is gone.</summary>
    private static bool Flush(Channel channel)
    {
        while (channel.HasPendingOutput)
        {
            var pending = channel.PendingOutput;
            nint sent;
            fixed (byte* start = pending)
            {
                sent = send(channel.Fd, start, pending.Length, MsgNoSignal);
            }

            if (sent > 0)
            {
                channel.Dequeue((int)sent);
                continue;
            }

            var errno = Errno;
            if (sent < 0 && errno == EIntr)
            {
                continue;
            }

            return sent < 0 && errno == EAgain;
        }

        return true;
    }

    /// <summary>recv into <paramref name="buffer"/>: bytes read, 0 at end of stream, -1 when nothing is there yet, -2 on error.</summary>
    private static int Receive(int fd, Span<byte> buffer)
    {
        while (true)
        {
            nint read;
            fixed (byte* start = buffer)
            {
                read = recv(fd, start, buffer.Length, 0);
            }

            if (read >= 0)
            {
                return (int)read;
            }

            var errno = Errno;
            if (errno == EIntr)
            {
                continue;
            }

            return errno == EAgain ? -1 : -2;
        }
    }

    // ---- Client side ----

    private void OnClient(ClientConnection client, uint events)
    {
        if ((events & EpollOut) != 0 || (client.HasPendingOutput && (events & (EpollErr | EpollHup)) != 0))
        {
            if (!Flush(client))
            {
                CloseClient(client);
                return;
            }

            client.LastActivity = Environment.TickCount64;
            if (!client.HasPendingOutput)
            {
                OnClientDrained(client);
                if (client.Closed)
                {
                    return;
                }
            }
        }

        switch (client.State)
        {
            case ClientConnection.Phase.ReadingHead:
                if ((events & (EpollIn | EpollErr | EpollHup)) != 0 && !client.HasPendingOutput)
                {
                    ReadClient(client);
                }
                else if ((events & EpollErr) != 0)
                {
                    CloseClient(client);
                }

                break;

            case ClientConnection.Phase.Exchanging:
                var gone = (events & (EpollRdHup | EpollErr | EpollHup)) != 0;
                if (!gone && (events & EpollIn) != 0 && client.InputLength < client.Input.Length)
                {
                    var read = Receive(client.Fd, client.Input.AsSpan(client.InputLength));
                    gone = read == 0 || read == -2;
                    if (read > 0)
                    {
                        client.HeadStarted = client.InputLength == 0 ? Environment.TickCount64 : client.HeadStarted;
                        client.InputLength += read;
                    }
                }

                if (gone)
                {
                    // The client left before its response was complete: nobody to answer, and not the app's fault.
                    AbortExchange(client, RouterErrorPage.ClientClosed);
                    return;
                }

                break;

            case ClientConnection.Phase.HandedOver:
                if ((events & (EpollErr | EpollHup)) != 0)
                {
                    CloseClient(client);
                    return;
                }

                if ((events & EpollIn) != 0)
                {
                    RelayToKestrel(client);
                }

                break;

            default:
                if ((events & (EpollErr | EpollHup)) != 0)
                {
                    CloseClient(client);
                }

                break;
        }

        Refresh(client);
    }

    private void OnClientDrained(ClientConnection client)
    {
        switch (client.State)
        {
            case ClientConnection.Phase.Exchanging when client.Link is { } link:
                // Back-pressure released: read from the app again, and the wait did not count against its timeout.
                link.LastActivity = client.LastActivity;
                Refresh(link);
                break;
            case ClientConnection.Phase.HandedOver:
                Refresh(client.Kestrel);
                break;
            case ClientConnection.Phase.Closing:
                CloseClient(client);
                break;
        }
    }

    private void ReadClient(ClientConnection client)
    {
        if (client.InputLength == client.Input.Length)
        {
            if (client.Input.Length >= _maxHead)
            {
                // Larger than any head this path takes: Kestrel answers it (431) by the general rules.
                HandOver(client);
                return;
            }

            var grown = new byte[Math.Min(client.Input.Length * 4, _maxHead)];
            client.Input.AsSpan(0, client.InputLength).CopyTo(grown);
            client.Input = grown;
        }

        var read = Receive(client.Fd, client.Input.AsSpan(client.InputLength));
        if (read == -1)
        {
            return;
        }

        if (read <= 0)
        {
            CloseClient(client);
            return;
        }

        var now = Environment.TickCount64;
        client.LastActivity = now;
        if (client.InputLength == 0)
        {
            client.HeadStarted = now;
        }

        client.InputLength += read;
        ProcessInput(client);
    }

    /// <summary>Starts the next request if a whole head is in the buffer.</summary>
    private void ProcessInput(ClientConnection client)
    {
        if (client.InputLength == 0)
        {
            return;
        }

        var input = client.Input.AsSpan(0, client.InputLength);
        var headEnd = input.IndexOf("\r\n\r\n"u8);
        if (headEnd < 0)
        {
            if (client.InputLength >= _maxHead)
            {
                HandOver(client);
            }

            return;
        }

        var head = input[..(headEnd + 4)];
        if (!LeanRequest.TryParse(head, out var request))
        {
            HandOver(client);
            return;
        }

        var hostBytes = head[request.Host];
        Span<char> hostChars = stackalloc char[hostBytes.Length];
        Encoding.ASCII.GetChars(hostBytes, hostChars);
        var lookup = _store.Current.Lookup(hostChars);
        // Unknown hosts and apps without instances get their error pages from the general path; sticky
        // sessions read and set cookies there too. None of them is the traffic that needs this path's speed.
        if (lookup.Status != RouteLookupStatus.Found || lookup.Pool is not { AllByAddress: true, IsSticky: false } pool)
        {
            HandOver(client);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        client.Request = request;
        client.Started = started;
        client.RequestId = request.RequestId.Equals(default(Range))
            ? Forwarding.RequestId.New()
            : Encoding.ASCII.GetString(head[request.RequestId]);
        client.Pool = pool;
        client.Endpoint = null;
        client.Tried1 = null;
        client.Tried2 = null;
        client.Attempts = 0;
        client.UpstreamHeaders = 0;
        client.BodyBytes = 0;
        client.Status = 0;
        client.Error = null;
        client.HeadSent = false;
        client.CloseAfter = request.CloseAfter;
        client.TimeoutMs = pool.TimeoutMs ?? _defaultTimeoutMs;
        client.Host = CachedString(hostBytes, client.Host);
        var target = head[request.Target];
        var query = target.IndexOf((byte)'?');
        client.Path = CachedString(query < 0 ? target : target[..query], client.Path);
        client.OutgoingLength = request.Write(head, client.PeerText, client.RequestId,
            ProxyRequest.RequestStartUnixMs(started), ref client.Outgoing);

        // The head is copied out; what follows it (a pipelined request) moves to the front.
        var rest = client.InputLength - head.Length;
        client.Input.AsSpan(head.Length, rest).CopyTo(client.Input);
        client.InputLength = rest;
        client.HeadStarted = rest > 0 ? Environment.TickCount64 : 0;
        client.State = ClientConnection.Phase.Exchanging;
        Refresh(client);
        Attempt(client);
    }

    /// <summary>The string for <paramref name="bytes"/>, made again only when they differ from last time.</summary>
    private static string CachedString(ReadOnlySpan<byte> bytes, string last) =>
        System.Text.Ascii.Equals(bytes, last) ? last : Encoding.ASCII.GetString(bytes);

    /// <summary>
    /// Gives the connection to Kestrel from the request now at the front of the buffer: a PROXY protocol
    /// line first (the client's address and the port it reached, which X-Forwarded-* and access logs
    /// need), then every byte the client sent that has not been answered.
    /// </summary>
    private void HandOver(ClientConnection client)
    {
        var fd = socket(AfUnix, SockStream | SockNonBlock | SockCloExec, 0);
        int connected;
        fixed (byte* address = _handoffAddress)
        {
            connected = fd < 0 ? -1 : connect(fd, address, _handoffAddress.Length);
        }

        if (connected != 0)
        {
            _logger.LogWarning("Front end: cannot hand a connection to Kestrel (errno {Errno}); closing it", Errno);
            if (fd >= 0)
            {
                close(fd);
            }

            CloseClient(client);
            return;
        }

        var kestrel = new KestrelLink(fd, _nextId++, client);
        client.Kestrel = kestrel;
        client.State = ClientConnection.Phase.HandedOver;
        Register(kestrel);

        var peer = client.Peer;
        var line = peer is null
            ? "PROXY UNKNOWN\r\n"
            : $"PROXY {(peer.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "TCP6" : "TCP4")} {peer.Address} {_localAddress} {peer.Port} {_localPort}\r\n";
        if (!Send(kestrel, Encoding.ASCII.GetBytes(line)) || !Send(kestrel, client.Input.AsSpan(0, client.InputLength)))
        {
            CloseClient(client);
            return;
        }

        client.InputLength = 0;
        Refresh(kestrel);
        Refresh(client);
    }

    private void RelayToKestrel(ClientConnection client)
    {
        var kestrel = client.Kestrel!;
        if (kestrel.HasPendingOutput || client.InputEnded)
        {
            return;
        }

        var read = Receive(client.Fd, client.Input);
        if (read == -1)
        {
            return;
        }

        if (read == -2)
        {
            CloseClient(client);
            return;
        }

        if (read == 0)
        {
            // The client is done sending; Kestrel learns it once everything before the end has reached it.
            client.InputEnded = true;
            if (kestrel.HasPendingOutput)
            {
                kestrel.ShutdownAfterFlush = true;
            }
            else
            {
                shutdown(kestrel.Fd, ShutWrite);
            }

            return;
        }

        if (!Send(kestrel, client.Input.AsSpan(0, read)))
        {
            CloseClient(client);
            return;
        }

        Refresh(kestrel);
    }

    private void OnKestrel(KestrelLink kestrel, uint events)
    {
        var client = kestrel.Client;
        if ((events & EpollOut) != 0)
        {
            if (!Flush(kestrel))
            {
                CloseClient(client);
                return;
            }

            if (!kestrel.HasPendingOutput)
            {
                if (kestrel.ShutdownAfterFlush)
                {
                    shutdown(kestrel.Fd, ShutWrite);
                }

                Refresh(client);
            }
        }

        if ((events & (EpollIn | EpollErr | EpollHup)) != 0 && !kestrel.Ended)
        {
            if (client.HasPendingOutput)
            {
                // Paused for the client, yet Kestrel's side failed: nothing more can be relayed.
                CloseClient(client);
                return;
            }

            var read = Receive(kestrel.Fd, kestrel.Buffer);
            if (read == -2 || read == 0)
            {
                kestrel.Ended = true;
                client.State = ClientConnection.Phase.Closing;
                Close(kestrel);
                client.Kestrel = null;
                if (!client.HasPendingOutput)
                {
                    CloseClient(client);
                }
                else
                {
                    Refresh(client);
                }

                return;
            }

            if (read > 0 && !Send(client, kestrel.Buffer.AsSpan(0, read)))
            {
                CloseClient(client);
                return;
            }
        }

        Refresh(kestrel);
        Refresh(client);
    }

    private void CloseClient(ClientConnection client)
    {
        if (client.Link is { } link)
        {
            client.Link = null;
            link.Client = null;
            Close(link);
        }

        EndAttempt(client);
        if (client.Kestrel is { } kestrel)
        {
            client.Kestrel = null;
            Close(kestrel);
        }

        Close(client);
    }

    // ---- Backend side ----

    private void Attempt(ClientConnection client)
    {
        var pool = client.Pool!;
        var now = PassiveHealth.Now;
        var endpoint = pool.Policy.Pick(pool, client.Tried1, client.Tried2, now);
        if (endpoint is null)
        {
            Fail(client, StatusCodes.Status502BadGateway, RouterErrorPage.EndpointFailure, $"{pool.App} failed to answer this request.");
            return;
        }

        client.Endpoint = endpoint;
        client.Attempts++;
        client.AttemptStarted = Stopwatch.GetTimestamp();
        endpoint.State.Begin();
        client.InFlight = true;
        Connect(client, endpoint, allowIdle: true);
    }

    /// <summary>Puts the exchange on an idle connection to the endpoint, or a new one.</summary>
    private void Connect(ClientConnection client, Destination endpoint, bool allowIdle)
    {
        var now = Environment.TickCount64;
        var link = allowIdle ? TakeIdle(endpoint.Connections) : null;
        if (link is null)
        {
            link = Open(endpoint.Connections, now);
            if (link is null)
            {
                AttemptFailed(client, connectFailure: true);
                return;
            }
        }

        link.Begin(client, now);
        client.Link = link;
        if (link.State == BackendLink.Phase.Connecting)
        {
            Refresh(link);
            return;
        }

        link.State = BackendLink.Phase.Sending;
        SendRequest(link);
    }

    private BackendLink? TakeIdle(BackendConnectionPool pool)
    {
        if (!_idle.TryGetValue(pool, out var idle))
        {
            return null;
        }

        // Most recently used first: a quiet spell lets the least used ones idle out.
        while (idle.Count > 0)
        {
            var link = idle[^1];
            idle.RemoveAt(idle.Count - 1);
            if (!link.Closed)
            {
                link.Reused = true;
                return link;
            }
        }

        return null;
    }

    private BackendLink? Open(BackendConnectionPool pool, long now)
    {
        var address = pool.NativeAddress!;
        var fd = socket(address[0] == AfInet6 ? AfInet6 : AfInet, SockStream | SockNonBlock | SockCloExec, 0);
        if (fd < 0)
        {
            return null;
        }

        SetOption(fd, IpProtoTcp, TcpNoDelay, 1);
        int result;
        fixed (byte* sockaddr = address)
        {
            result = connect(fd, sockaddr, address.Length);
        }

        if (result != 0 && Errno != EInProgress)
        {
            close(fd);
            return null;
        }

        var link = new BackendLink(fd, _nextId++, pool, now)
        {
            State = result == 0 ? BackendLink.Phase.Sending : BackendLink.Phase.Connecting,
            LastActivity = now,
        };
        Register(link);
        return link;
    }

    private void OnBackend(BackendLink link, uint events)
    {
        if (link.Client is not { } client)
        {
            // Idle: the app closed it, or sent bytes nobody asked for. Either way it cannot be reused.
            Close(link);
            return;
        }

        switch (link.State)
        {
            case BackendLink.Phase.Connecting:
                if (PendingError(link.Fd) != 0)
                {
                    AttemptFailed(client, connectFailure: true);
                    return;
                }

                link.State = BackendLink.Phase.Sending;
                SendRequest(link);
                return;

            case BackendLink.Phase.Sending:
                SendRequest(link);
                return;

            case BackendLink.Phase.Receiving:
                if (client.HasPendingOutput)
                {
                    if ((events & (EpollErr | EpollHup)) != 0)
                    {
                        AbortExchange(client, RouterErrorPage.EndpointFailure);
                    }

                    return;
                }

                ReadResponse(link, client);
                return;
        }
    }

    private void SendRequest(BackendLink link)
    {
        var client = link.Client!;
        while (link.Sent < client.OutgoingLength)
        {
            nint sent;
            fixed (byte* start = client.Outgoing)
            {
                sent = send(link.Fd, start + link.Sent, client.OutgoingLength - link.Sent, MsgNoSignal);
            }

            if (sent > 0)
            {
                link.Sent += (int)sent;
                continue;
            }

            var errno = Errno;
            if (sent < 0 && errno == EIntr)
            {
                continue;
            }

            if (sent < 0 && errno == EAgain)
            {
                Refresh(link);
                return;
            }

            ClosedBeforeResponse(link, client);
            return;
        }

        link.LastActivity = Environment.TickCount64;
        link.State = BackendLink.Phase.Receiving;
        Refresh(link);
    }

    private void ReadResponse(BackendLink link, ClientConnection client)
    {
        if (link.Start == link.End)
        {
            link.Start = 0;
            link.End = 0;
        }
        else if (link.End == link.Buffer.Length)
        {
            var unread = link.End - link.Start;
            link.Buffer.AsSpan(link.Start, unread).CopyTo(link.Buffer);
            link.Start = 0;
            link.End = unread;
        }

        var read = Receive(link.Fd, link.Buffer.AsSpan(link.End));
        if (read == -1)
        {
            return;
        }

        if (read > 0)
        {
            link.End += read;
            link.ReceivedAny = true;
            link.LastActivity = Environment.TickCount64;
            Pump(link, client);
            return;
        }

        // The app closed the connection (or it failed).
        if (!client.HeadSent)
        {
            ClosedBeforeResponse(link, client);
        }
        else if (read == 0 && link.BodyFraming == BackendLink.Framing.UntilClose)
        {
            Complete(link, client);
        }
        else
        {
            // Cut short after the client got the head: it must see a failure, not a response that looks complete.
            AbortExchange(client, RouterErrorPage.EndpointFailure);
        }
    }

    /// <summary>The app closed before its response head was complete.</summary>
    private void ClosedBeforeResponse(BackendLink link, ClientConnection client)
    {
        if (link.Reused && !link.ReceivedAny)
        {
            // The app had closed this idle connection before our request reached it (it idled out on the
            // app's side): nothing was processed, so the request goes again, on a new connection.
            link.Client = null;
            client.Link = null;
            Close(link);
            Connect(client, client.Endpoint!, allowIdle: false);
            return;
        }

        AttemptFailed(client, connectFailure: false);
    }

    /// <summary>
    /// An attempt failed before anything of a response reached the client, in one of the two ways
    /// <see cref="RetryRule.IsSafe"/> allows a retry for: the connection failed, or the app closed it before
    /// responding to a bodiless idempotent request (every request this path takes is one).
    /// </summary>
    private void AttemptFailed(ClientConnection client, bool connectFailure)
    {
        var endpoint = client.Endpoint!;
        if (client.Link is { } link)
        {
            link.Client = null;
            client.Link = null;
            Close(link);
        }

        EndAttempt(client);
        if (connectFailure)
        {
            _health.ReportConnectFailure(endpoint);
        }

        if (client.Attempts < MaxAttempts)
        {
            _metrics.Retries.Increment();
            if (client.Attempts == 1)
            {
                client.Tried1 = endpoint;
            }
            else
            {
                client.Tried2 = endpoint;
            }

            Attempt(client);
            return;
        }

        _logger.LogWarning("Forwarding to {Instance} at {Address} for {App} failed after {Attempts} attempt(s)",
            endpoint.Instance, endpoint.Address, client.Pool!.App, client.Attempts);
        Fail(client, StatusCodes.Status502BadGateway, RouterErrorPage.EndpointFailure, $"{client.Pool!.App} failed to answer this request.");
    }

    /// <summary>Handles what has arrived from the app: the head once, then body bytes by the response's framing.</summary>
    private void Pump(BackendLink link, ClientConnection client)
    {
        _staged = 0;
        if (!link.HeadDone)
        {
            while (true)
            {
                var parsed = link.Head.TryParse(link.Buffer.AsSpan(link.Start, link.End - link.Start), out var length);
                if (parsed == ResponseHead.Result.Incomplete)
                {
                    return;
                }

                if (parsed == ResponseHead.Result.Invalid || link.Head.StatusCode == StatusCodes.Status101SwitchingProtocols)
                {
                    InvalidResponse(link, client);
                    return;
                }

                var headStart = link.Start;
                link.Start += length;
                if (link.Head.StatusCode < 200)
                {
                    // An interim response (103 Early Hints): the real one follows.
                    continue;
                }

                client.UpstreamHeaders = Stopwatch.GetTimestamp();
                if (!StageHead(link, client, link.Buffer.AsSpan(headStart, length)))
                {
                    InvalidResponse(link, client);
                    return;
                }

                link.HeadDone = true;
                break;
            }
        }

        var done = false;
        switch (link.BodyFraming)
        {
            case BackendLink.Framing.None:
                done = true;
                break;

            case BackendLink.Framing.Length:
                var take = (int)Math.Min(link.Remaining, link.End - link.Start);
                Stage(link.Buffer.AsSpan(link.Start, take));
                link.Start += take;
                link.Remaining -= take;
                client.BodyBytes += take;
                done = link.Remaining == 0;
                break;

            case BackendLink.Framing.Chunked:
                // The app's chunked framing goes to the client as it is; the decoder only finds where it ends.
                var from = link.Start;
                while (link.Start < link.End && !link.Decoder.IsComplete)
                {
                    if (!link.Decoder.Decode(link.Buffer.AsSpan(link.Start, link.End - link.Start), out var consumed, out _, out var data))
                    {
                        SendStaged(client);
                        AbortExchange(client, RouterErrorPage.EndpointFailure);
                        return;
                    }

                    link.Start += consumed;
                    client.BodyBytes += data;
                }

                Stage(link.Buffer.AsSpan(from, link.Start - from));
                done = link.Decoder.IsComplete;
                break;

            case BackendLink.Framing.UntilClose:
                Stage(link.Buffer.AsSpan(link.Start, link.End - link.Start));
                client.BodyBytes += link.End - link.Start;
                link.Start = link.End;
                break;
        }

        if (!SendStaged(client))
        {
            AbortExchange(client, RouterErrorPage.ClientClosed);
            return;
        }

        if (done)
        {
            Complete(link, client);
            return;
        }

        Refresh(client);
        Refresh(link);
    }

    /// <summary>
    /// Stages the head for the client: the status line, the app's end-to-end header lines as it wrote them,
    /// the framing header that matches how the body is passed on, and Connection: close when this is the
    /// connection's last response. False when a header cannot be passed on safely.
    /// </summary>
    private bool StageHead(BackendLink link, ClientConnection client, ReadOnlySpan<byte> head)
    {
        var response = link.Head;
        var status = response.StatusCode;
        var bodyless = client.Request.IsHead || status is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified;
        link.BodyFraming = bodyless ? BackendLink.Framing.None
            : response.Chunked ? BackendLink.Framing.Chunked
            : !response.UntilClose && response.ContentLength >= 0 ? BackendLink.Framing.Length
            : BackendLink.Framing.UntilClose;
        link.Remaining = response.ContentLength;
        if (link.BodyFraming == BackendLink.Framing.UntilClose)
        {
            // The body ends when the app closes, so the client's connection must end with it.
            client.CloseAfter = true;
        }

        client.Status = status;
        Stage(StatusLine(status));
        var position = head.IndexOf((byte)'\n') + 1;
        while (true)
        {
            var rest = head[position..];
            var lineEnd = rest.IndexOf((byte)'\n');
            var line = rest[..lineEnd];
            position += lineEnd + 1;
            if (line.Length > 0 && line[^1] == '\r')
            {
                line = line[..^1];
            }

            if (line.IsEmpty)
            {
                break;
            }

            var colon = line.IndexOf((byte)':');
            var keep = ResponseHead.KindOf(line[..colon]) switch
            {
                ResponseHead.HeaderKind.EndToEnd => true,
                ResponseHead.HeaderKind.ContentLength => link.BodyFraming == BackendLink.Framing.Length
                    || (client.Request.IsHead && status is not (StatusCodes.Status204NoContent or StatusCodes.Status304NotModified)),
                ResponseHead.HeaderKind.TransferEncoding => link.BodyFraming == BackendLink.Framing.Chunked,
                _ => false,
            };

            if (!keep)
            {
                continue;
            }

            // A control character in a value (a bare CR above all) could split the response for the client.
            if (line[(colon + 1)..].ContainsAnyExcept(HeaderValueBytes))
            {
                return false;
            }

            Stage(line);
            Stage("\r\n"u8);
        }

        if (client.CloseAfter)
        {
            Stage("Connection: close\r\n"u8);
        }

        Stage("\r\n"u8);
        client.HeadSent = true;
        return true;
    }

    private static readonly System.Buffers.SearchValues<byte> HeaderValueBytes = System.Buffers.SearchValues.Create(
        [9, .. Enumerable.Range(0x20, 0x7F - 0x20).Select(b => (byte)b), .. Enumerable.Range(0x80, 0x80).Select(b => (byte)b)]);

    private static byte[] StatusLine(int status)
    {
        var line = StatusLines[status];
        if (line is null)
        {
            line = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)}\r\n");
            StatusLines[status] = line;
        }

        return line;
    }

    private void Stage(ReadOnlySpan<byte> bytes)
    {
        if (_staged + bytes.Length > _stage.Length)
        {
            Array.Resize(ref _stage, Math.Max(_stage.Length * 2, _staged + bytes.Length));
        }

        bytes.CopyTo(_stage.AsSpan(_staged));
        _staged += bytes.Length;
    }

    private bool SendStaged(ClientConnection client)
    {
        var ok = _staged == 0 || Send(client, _stage.AsSpan(0, _staged));
        _staged = 0;
        client.LastActivity = Environment.TickCount64;
        return ok;
    }

    private void InvalidResponse(BackendLink link, ClientConnection client)
    {
        _staged = 0;
        client.HeadSent = false;
        _logger.LogWarning("{Address} sent a response for {App} that cannot be forwarded", link.Pool.Address, client.Pool!.App);
        Fail(client, StatusCodes.Status502BadGateway, RouterErrorPage.EndpointFailure, $"{client.Pool!.App} failed to answer this request.");
    }

    /// <summary>The response went through whole.</summary>
    private void Complete(BackendLink link, ClientConnection client)
    {
        EndAttempt(client);
        PassiveHealth.ReportSuccess(client.Endpoint!, PassiveHealth.Now);
        link.Client = null;
        client.Link = null;
        if (link.Head.KeepAlive && link.BodyFraming != BackendLink.Framing.UntilClose && link.Start == link.End)
        {
            link.State = BackendLink.Phase.Idle;
            link.LastActivity = Environment.TickCount64;
            if (!_idle.TryGetValue(link.Pool, out var idle))
            {
                idle = [];
                _idle[link.Pool] = idle;
            }

            idle.Add(link);
            Refresh(link);
        }
        else
        {
            Close(link);
        }

        Log(client);
        Finish(client);
    }

    /// <summary>Answers with the router's own error page (nothing of the app's response has been sent).</summary>
    private void Fail(ClientConnection client, int status, string code, string message)
    {
        if (client.Link is { } link)
        {
            link.Client = null;
            client.Link = null;
            Close(link);
        }

        EndAttempt(client);

        var page = RouterErrorPage.Render(status, code, message, client.RequestId, client.Request.IsHead, client.CloseAfter);
        client.Status = status;
        client.Error = code;
        client.BodyBytes = Encoding.UTF8.GetByteCount(message) + 1;
        if (!Send(client, page))
        {
            CloseClient(client);
            Log(client);
            return;
        }

        Log(client);
        Finish(client);
    }

    /// <summary>The attempt in progress no longer counts as outstanding on its endpoint (least-requests balancing reads it).</summary>
    private static void EndAttempt(ClientConnection client)
    {
        if (client.InFlight)
        {
            client.InFlight = false;
            client.Endpoint!.State.End();
        }
    }

    /// <summary>Ends the exchange and the client's connection: the client left, or the response broke off midway.</summary>
    private void AbortExchange(ClientConnection client, string reason)
    {
        if (client.State != ClientConnection.Phase.Exchanging)
        {
            CloseClient(client);
            return;
        }

        client.Status = client.HeadSent ? client.Status : 499;
        client.Error = reason;
        CloseClient(client);
        Log(client);
    }

    private void Finish(ClientConnection client)
    {
        client.Pool = null;
        client.Endpoint = null;
        client.Tried1 = null;
        client.Tried2 = null;
        if (client.CloseAfter)
        {
            client.State = ClientConnection.Phase.Closing;
            if (!client.HasPendingOutput)
            {
                CloseClient(client);
            }
            else
            {
                Refresh(client);
            }

            return;
        }

        client.State = ClientConnection.Phase.ReadingHead;
        Refresh(client);
        ProcessInput(client);
    }

    private void Log(ClientConnection client)
    {
        var pool = client.Pool!;
        var duration = Stopwatch.GetElapsedTime(client.Started);
        var upstream = client.UpstreamHeaders != 0
            ? Stopwatch.GetElapsedTime(client.AttemptStarted, client.UpstreamHeaders).TotalMilliseconds
            : -1;
        _metrics.Record(pool, pool.App, client.Status, duration);
        if (!_accessLog.IsRecording)
        {
            // Both logs off: making the entry would only cost the cache misses of reading what it names.
            return;
        }

        _accessLog.Write(new AccessLogEntry(
            DateTime.UtcNow, client.Host, client.Request.Method, client.Path, client.Status, client.BodyBytes, duration.TotalMilliseconds,
            upstream, pool.App, client.Endpoint?.Instance, client.Attempts, client.RequestId, client.Error));
    }

    // ---- Time ----

    private void CheckTimeouts(long now)
    {
        if (_acceptPaused)
        {
            _acceptPaused = false;
            SetListenerInterest(EpollIn);
        }

        var channels = _channels;
        for (var i = 0; i < channels.Length; i++)
        {
            if (channels[i] is not { Closed: false } channel)
            {
                continue;
            }

            switch (channel)
            {
                case BackendLink { Client: { } client } link:
                    if (link.State == BackendLink.Phase.Connecting)
                    {
                        if (now - link.ConnectStarted > ConnectTimeoutMs)
                        {
                            AttemptFailed(client, connectFailure: true);
                        }
                    }
                    else if (now - link.LastActivity > client.TimeoutMs && !client.HasPendingOutput)
                    {
                        if (client.HeadSent)
                        {
                            AbortExchange(client, RouterErrorPage.Timeout);
                        }
                        else
                        {
                            // Not retried: the app may still be working on it, and a retry would double a slow app's load.
                            Fail(client, StatusCodes.Status504GatewayTimeout, RouterErrorPage.Timeout, $"{client.Pool!.App} did not answer in time.");
                        }
                    }

                    break;

                case BackendLink link:
                    if (now - link.LastActivity > BackendConnectionMonitor.IdleTimeout.TotalMilliseconds
                        || now - link.Created > BackendConnectionMonitor.Lifetime.TotalMilliseconds)
                    {
                        Close(link);
                    }

                    break;

                case ClientConnection client:
                    var idleFor = now - client.LastActivity;
                    if ((client.State == ClientConnection.Phase.ReadingHead
                            && (client.InputLength == 0 ? idleFor > KeepAliveTimeoutMs : now - client.HeadStarted > HeadTimeoutMs))
                        || (client.State == ClientConnection.Phase.Closing && idleFor > KeepAliveTimeoutMs)
                        || (client.State == ClientConnection.Phase.Exchanging && client.HasPendingOutput && idleFor > KeepAliveTimeoutMs))
                    {
                        if (client.State == ClientConnection.Phase.Exchanging)
                        {
                            AbortExchange(client, RouterErrorPage.ClientClosed);
                        }
                        else
                        {
                            CloseClient(client);
                        }
                    }

                    break;
            }
        }

        // Idle lists keep closed links until popped; drop them so an address no longer used frees its buffers.
        foreach (var (pool, idle) in _idle)
        {
            idle.RemoveAll(link => link.Closed);
            if (idle.Count == 0)
            {
                _idle.Remove(pool);
            }
        }
    }
}
