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
internal sealed unsafe partial class FrontEndLoop
{
    private const int MaxAttempts = RetryRule.MaxAttempts;
    private const int TickMs = 100;
    private const uint RingEntries = 512;
    private static readonly long ConnectTimeoutMs = (long)BackendConnectionPool.ConnectTimeout.TotalMilliseconds;
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
    private readonly bool _batchedIo;
    private readonly List<Channel> _toFlush = [];
    private IoRing? _ring;
    private Channel?[] _channels = new Channel?[1024];
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
        _checkTimeouts = () => CheckTimeouts(_lastTick);
        _acceptAll = AcceptAll;
        _logger = logger;
        _batchedIo = settings.BatchedIo;
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
        // Made here: a ring belongs to the thread that submits to it.
        if (_batchedIo)
        {
            _ring = IoRing.TryCreate(RingEntries, out var unavailable);
            if (_ring is null)
            {
                _logger.LogInformation("Front end: {Reason}; sending and receiving with one system call each", unavailable);
            }
        }

        var events = new EpollEvent[256];
        fixed (EpollEvent* ready = events)
        {
            while (!_stopping)
            {
                var count = epoll_wait(_epoll, ready, events.Length, TickMs);
                HandleBatch(ready, count);
                var now = Environment.TickCount64;
                if (now - _lastTick >= TickMs)
                {
                    _lastTick = now;
                    Guarded(_checkTimeouts);
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
        _ring?.Dispose();
    }

    /// <summary>
    /// Handles one epoll batch, then sends what it queued for sending. Its own method rather than the body
    /// of <see cref="Run"/>'s loop, and not inlined into it: a method that never returns only ever runs as
    /// on-stack-replacement code, which the JIT optimizes less than a method it can recompile with profile data.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void HandleBatch(EpollEvent* ready, int count)
    {
        if (_ring is not null && count > 1)
        {
            try
            {
                ReceiveBatch(ready, count);
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
            if (data == uint.MaxValue)
            {
                Guarded(_acceptAll);
                continue;
            }

            var channel = ChannelOf(data);
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

        if (_toFlush.Count > 0)
        {
            try
            {
                FlushBatch();
            }
            catch (Exception ex)
            {
                // Their bytes may or may not have gone: those connections cannot go on.
                _logger.LogError(ex, "Front end: a batched send failed; closing the connections it was for");
                foreach (var channel in _toFlush)
                {
                    channel.FlushQueued = false;
                    CloseChannelAndPeers(channel);
                }

                _toFlush.Clear();
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

    /// <summary>
    /// The live channel an epoll event is for, or null when it is for one already closed, or for no channel
    /// at all: the listener's marker, uint.MaxValue, is fd -1 here, and must not index the table (it did,
    /// from <see cref="ReceiveBatch"/>, whenever an accept shared a batch with reads: found by make chaos).
    /// </summary>
    private Channel? ChannelOf(ulong data)
    {
        var fd = (int)(data & 0xFFFFFFFF);
        var channel = (uint)fd < (uint)_channels.Length ? _channels[fd] : null;
        return channel is null || channel.Id != (uint)(data >> 32) ? null : channel;
    }

    /// <summary>
    /// Makes, in one submission, the receives this batch's busiest events would each make first thing: a
    /// client's head bytes and an app's response bytes, into the buffers the handlers read from (the
    /// handler then takes the result through <see cref="Receive(Channel, Span{byte})"/>).
    /// </summary>
    private void ReceiveBatch(EpollEvent* ready, int count)
    {
        var ring = _ring!;
        // A submission of one saves nothing over the call itself: the first wanted receive is only queued
        // once a second one turns up.
        var first = -1;
        var firstQueued = false;
        for (var i = 0; i < count; i++)
        {
            if ((ready[i].Events & (EpollIn | EpollErr | EpollHup)) == 0 || ChannelOf(ready[i].Data) is not { } channel)
            {
                continue;
            }

            var space = ReceiveTarget(channel);
            if (space.IsEmpty)
            {
                continue;
            }

            if (first < 0)
            {
                first = i;
                continue;
            }

            if (!firstQueued)
            {
                var firstChannel = ChannelOf(ready[first].Data)!;
                QueueReceive(ring, firstChannel, ReceiveTarget(firstChannel), first);
                firstQueued = true;
            }
            else if (ring.Queued == ring.Capacity)
            {
                SubmitReceives(ring, ready);
            }

            QueueReceive(ring, channel, space, i);
        }

        if (ring.Queued > 0)
        {
            SubmitReceives(ring, ready);
        }
    }

    private static void QueueReceive(IoRing ring, Channel channel, Span<byte> space, int eventIndex) =>
        ring.QueueRecv(channel.Fd, (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(space)), space.Length, (ulong)eventIndex);

    private void SubmitReceives(IoRing ring, EpollEvent* ready)
    {
        _metrics.BatchedIo.Add(ring.Queued);
        ring.SubmitAndWait();
        while (ring.TryTake(out var eventIndex, out var result))
        {
            ChannelOf(ready[(int)eventIndex].Data)!.Received = result;
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

    /// <summary>
    /// Sends <paramref name="bytes"/> with the rest of this epoll batch's sends, in one system call at its
    /// end (<see cref="FlushBatch"/>); a failure is handled then (<see cref="BatchedSendFailed"/>). Without
    /// a ring, or behind bytes already waiting for the socket, the same as <see cref="Send"/>.
    /// </summary>
    private bool SendBatched(Channel channel, ReadOnlySpan<byte> bytes)
    {
        if (_ring is null || channel.IsBlocked)
        {
            return Send(channel, bytes);
        }

        channel.Enqueue(bytes);
        if (!channel.FlushQueued)
        {
            channel.FlushQueued = true;
            _toFlush.Add(channel);
        }

        return true;
    }

    /// <summary>Makes the batch's queued sends in one submission and acts on each result as a send's caller would.</summary>
    private void FlushBatch()
    {
        var ring = _ring!;
        while (_toFlush.Count > 0)
        {
            // Acting on a result can queue another send (a retry on a fresh connection); it goes in the next round.
            var round = Math.Min(_toFlush.Count, (int)ring.Capacity);
            for (var i = 0; i < round; i++)
            {
                var channel = _toFlush[i];
                if (channel.Closed || !channel.HasPendingOutput)
                {
                    channel.FlushQueued = false;
                }
                else if (round == 1)
                {
                    // A submission of one saves nothing over the call itself.
                    var sent = send(channel.Fd, channel.PendingAddress, channel.PendingOutput.Length, MsgNoSignal);
                    BatchedSendDone(channel, sent >= 0 ? (int)sent : -Errno);
                }
                else
                {
                    ring.QueueSend(channel.Fd, channel.PendingAddress, channel.PendingOutput.Length, (ulong)i);
                }
            }

            if (ring.Queued > 0)
            {
                _metrics.BatchedIo.Add(ring.Queued);
                ring.SubmitAndWait();
                while (ring.TryTake(out var tag, out var result))
                {
                    BatchedSendDone(_toFlush[(int)tag], result);
                }
            }

            _toFlush.RemoveRange(0, round);
        }
    }

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

    /// <summary>What the batch received for <paramref name="channel"/> (into <paramref name="buffer"/>, where it was asked to go), else recv.</summary>
    private static int Receive(Channel channel, Span<byte> buffer)
    {
        var received = channel.Received;
        if (received == Channel.NoReceive)
        {
            return Receive(channel.Fd, buffer);
        }

        channel.Received = Channel.NoReceive;
        return received >= 0 ? received : received is -EAgain or -EIntr ? -1 : -2;
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
}
