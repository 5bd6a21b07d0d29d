using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Net;
using System.Text;
using Paas.Router.Forwarding;
using Paas.Router.Forwarding.Http1;
using Paas.Router.Health;
using Paas.Router.Observability;
using Paas.Router.Table;
using static Paas.Router.FrontEnd.Libc;
using static Paas.Router.FrontEnd.SocketIo;

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
/// <para>
/// This class is the proxying: accepting, reading heads (FrontEndLoop.Client.cs), talking to apps
/// (FrontEndLoop.Backend.cs) and timing out (FrontEndLoop.Timeouts.cs). The socket plumbing under it has a type
/// each: <see cref="EpollSet"/> (which channel an event is for), <see cref="SocketIo"/> (one send or receive) and
/// <see cref="IoBatch"/> (a batch's sends and receives in one io_uring submission).
/// </para>
/// </summary>
internal sealed unsafe partial class FrontEndLoop
{
    private const int MaxAttempts = RetryRule.MaxAttempts;
    private const int TickMs = 100;
    private const uint RingEntries = 512;
    private static readonly long ConnectTimeoutMs = (long)BackendConnectionPool.ConnectTimeout.TotalMilliseconds;
    private const long KeepAliveTimeoutMs = 130_000;
    private const long HeadTimeoutMs = 30_000;
    private static readonly byte[][] StatusLines = new byte[1000][];

    private readonly EpollSet _set;
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
    private readonly bool _batchedIo;
    private IoBatch? _batch;
    private uint _nextId = 1;
    private byte[] _stage = new byte[48 * 1024];
    private int _staged;
    private long _lastTick;
    private volatile bool _stopping;
    private bool _acceptPaused;

    // Made once: a lambda or method group passed as an Action is a new object each time (the timeout
    // lambda's closure was made on every turn of the loop), and what the loop allocates brings collections that pause it.
    private readonly Action _checkTimeouts;
    private readonly Action _acceptAll;
    private readonly Action<Channel, int> _batchedSendDone;
    private readonly Action<Channel> _closeChannelAndPeers;
    private static readonly ReceiveTargetOf ReceiveTargetOfChannel = ReceiveTarget;

    public FrontEndLoop(int listener, byte[] handoffAddress, IPEndPoint local, RouterSettings settings, RouteTableStore store,
        PassiveHealth health, RouterMetrics metrics, AccessLog accessLog, ILogger logger)
    {
        _handoffAddress = handoffAddress;
        _localAddress = local.Address.ToString();
        _localPort = local.Port;
        _maxHead = settings.MaxHeaderBytes + 8 * 1024;
        _defaultTimeoutMs = (long)settings.BackendTimeout.TotalMilliseconds;
        _store = store;
        _health = health;
        _metrics = metrics;
        _accessLog = accessLog;
        _checkTimeouts = () => CheckTimeouts(_lastTick);
        _acceptAll = AcceptAll;
        _batchedSendDone = BatchedSendDone;
        _closeChannelAndPeers = CloseChannelAndPeers;
        _logger = logger;
        _batchedIo = settings.BatchedIo;
        _set = new EpollSet(listener);
    }

    public void Stop() => _stopping = true;

    public void Run()
    {
        // Made here: a ring belongs to the thread that submits to it.
        if (_batchedIo)
        {
            _batch = IoBatch.TryCreate(RingEntries, _metrics, out var unavailable);
            if (_batch is null)
            {
                _logger.LogInformation("Front end: {Reason}; sending and receiving with one system call each", unavailable);
            }
        }

        var events = new EpollEvent[256];
        fixed (EpollEvent* ready = events)
        {
            while (!_stopping)
            {
                var count = _set.Wait(ready, events.Length, TickMs);
                HandleBatch(ready, count);
                var now = Environment.TickCount64;
                if (now - _lastTick >= TickMs)
                {
                    _lastTick = now;
                    Guarded(_checkTimeouts);
                }
            }
        }

        foreach (var channel in _set.Slots)
        {
            if (channel is not null)
            {
                CloseChannelAndPeers(channel);
            }
        }

        _set.Dispose();
        _batch?.Dispose();
    }

    /// <summary>
    /// Handles one epoll batch, then sends what it queued for sending. Its own method rather than the body
    /// of <see cref="Run"/>'s loop, and not inlined into it: a method that never returns only ever runs as
    /// on-stack-replacement code, which the JIT optimizes less than a method it can recompile with profile data.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void HandleBatch(EpollEvent* ready, int count)
    {
        if (_batch is not null && count > 1)
        {
            try
            {
                _batch.Receive(ready, count, _set, ReceiveTargetOfChannel);
            }
            catch (Exception ex)
            {
                // What did arrive is still marked on its channel; the rest is read by each handler as usual.
                _logger.LogError(ex, "Front end: a batched receive failed");
            }
        }

        for (var i = 0; i < count; i++)
        {
            var data = ready[i].Data;
            if (data == EpollSet.ListenerMarker)
            {
                Guarded(_acceptAll);
                continue;
            }

            var channel = _set.ChannelOf(data);
            if (channel is null)
            {
                continue;
            }

            try
            {
                Dispatch(channel, ready[i].Events);
                if (channel.Received != Channel.NoReceive && !channel.Closed)
                {
                    // Nothing may be left unread: those bytes are in the buffer but not counted there.
                    channel.Received = Channel.NoReceive;
                    throw new InvalidOperationException("a batched receive was not taken by its connection");
                }
            }
            catch (Exception ex)
            {
                // A bug must cost one connection, not the loop and every connection on it.
                _logger.LogError(ex, "Front end: unexpected failure handling a connection; closing it");
                CloseChannelAndPeers(channel);
            }
        }

        if (_batch is { HasQueuedSends: true })
        {
            try
            {
                _batch.Flush(_batchedSendDone);
            }
            catch (Exception ex)
            {
                // Their bytes may or may not have gone: those connections cannot go on.
                _logger.LogError(ex, "Front end: a batched send failed; closing the connections it was for");
                _batch.Abandon(_closeChannelAndPeers);
            }
        }
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

    /// <summary>Where the handler of a readable channel is sure to read at once, or nothing when it might not.</summary>
    private static Span<byte> ReceiveTarget(Channel channel) => channel switch
    {
        ClientConnection { State: ClientConnection.Phase.ReadingHead, IsBlocked: false } client when client.InputLength < client.Input.Length
            => client.Input.AsSpan(client.InputLength),
        BackendLink { State: BackendLink.Phase.Receiving, Client.IsBlocked: false } link => ReceiveSpace(link),
        _ => default,
    };

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
            var fd = accept4(_set.Listener, address, &length, SockNonBlock | SockCloExec);
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

    private void SetListenerInterest(uint events) => _set.SetListenerInterest(events);

    private void Register(Channel channel) => _set.Register(channel);

    /// <summary>Brings the epoll mask in line with what the channel now wants (level-triggered: nothing is missed).</summary>
    private void Refresh(Channel? channel) => _set.Refresh(channel);

    private void Close(Channel channel)
    {
        if (_set.Close(channel) && channel is ClientConnection)
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

    /// <summary>
    /// Sends <paramref name="bytes"/> with the rest of this epoll batch's sends, in one system call at its
    /// end (<see cref="IoBatch.Flush"/>); a failure is handled then (<see cref="BatchedSendFailed"/>). Without
    /// a ring, or behind bytes already waiting for the socket, the same as <see cref="Send"/>.
    /// </summary>
    private bool SendBatched(Channel channel, ReadOnlySpan<byte> bytes)
    {
        if (_batch is null || channel.IsBlocked)
        {
            return Send(channel, bytes);
        }

        _batch.Send(channel, bytes);
        return true;
    }

    /// <summary>What a batched send's result means for its exchange, as it would to a <see cref="SocketIo.Send"/> caller.</summary>
    private void BatchedSendDone(Channel channel, int result)
    {
        try
        {
            AfterBatchedSend(channel, result);
        }
        catch (Exception ex)
        {
            // A bug must cost one connection, not the loop and every connection on it.
            _logger.LogError(ex, "Front end: unexpected failure handling a connection; closing it");
            CloseChannelAndPeers(channel);
        }
    }

    private void AfterBatchedSend(Channel channel, int result)
    {
        channel.FlushQueued = false;
        if (channel.Closed)
        {
            return;
        }

        if (result > 0)
        {
            channel.Dequeue(result);
        }
        else if (result != -EAgain && result != -EIntr)
        {
            BatchedSendFailed(channel);
            return;
        }

        if (channel.HasPendingOutput)
        {
            // The kernel's buffer is full: the rest waits for the socket to become writable, and what
            // reads on this channel's behalf pauses meanwhile.
            Refresh(channel);
            if (channel is ClientConnection client)
            {
                Refresh(client.Link);
                Refresh(client.Kestrel);
            }

            return;
        }

        if (channel is ClientConnection { State: not ClientConnection.Phase.ReadingHead } drained)
        {
            OnClientDrained(drained);
        }
    }

    /// <summary>A batched send failed: what a failed <see cref="Send"/> leads to where it was called.</summary>
    private void BatchedSendFailed(Channel channel)
    {
        switch (channel)
        {
            case ClientConnection client:
                AbortExchange(client, RouterErrorPage.ClientClosed);
                break;
            case BackendLink { Client: { } client } link when client.Link == link && !client.HeadSent:
                ClosedBeforeResponse(link, client);
                break;
            default:
                CloseChannelAndPeers(channel);
                break;
        }
    }
}
