using System.Net.Sockets;

namespace Paas.Router.Forwarding.Http1;

/// <summary>
/// One keep-alive TCP connection to an app instance, with the buffers and parsers that live as long as it
/// does. Used by one request at a time; between requests it waits in its instance's pool. The
/// <see cref="BackendConnectionMonitor"/> closes it when a request on it goes quiet for longer than the
/// app's timeout, or when it has idled in the pool too long.
/// </summary>
public sealed class BackendConnection : IDisposable
{
    private const int Idle = 0, Busy = 1, Closed = 2;
    private const int ReadBufferSize = 32 * 1024;

    private readonly Socket _socket;
    private readonly BackendConnectionMonitor _monitor;
    private int _state = Busy;
    private int _timedOut;
    private long _received;

    internal BackendConnection(Socket socket, BackendConnectionPool pool, BackendConnectionMonitor monitor, long now)
    {
        _socket = socket;
        Pool = pool;
        _monitor = monitor;
        Created = now;
        LastActivity = now;
    }

    public BackendConnectionPool Pool { get; }

    public RequestHead Request { get; } = new();

    public ResponseHead Response { get; } = new();

    /// <summary>Bytes received and not yet handled are <c>Buffer[Start..End]</c>.</summary>
    public byte[] Buffer { get; } = new byte[ReadBufferSize];

    public int Start { get; set; }

    public int End { get; private set; }

    public ReadOnlySpan<byte> Unread => Buffer.AsSpan(Start, End - Start);

    /// <summary>Monotonic milliseconds (<see cref="Environment.TickCount64"/>).</summary>
    public long Created { get; }

    public long LastActivity { get; private set; }

    /// <summary>How long the current request may go without a byte moving; set per app.</summary>
    public long TimeoutMs { get; private set; } = long.MaxValue;

    public bool TimedOut => Volatile.Read(ref _timedOut) != 0;

    internal bool IsBusy => Volatile.Read(ref _state) == Busy;

    internal bool IsIdle => Volatile.Read(ref _state) == Idle;

    /// <summary>Starts a request on this connection.</summary>
    public void Begin(long timeoutMs, long now)
    {
        TimeoutMs = timeoutMs;
        LastActivity = now;
        Start = 0;
        End = 0;
        _received = 0;
    }

    /// <summary>Whether any byte of a response arrived since <see cref="Begin"/>.</summary>
    public bool HasReceived => _received != 0;

    public ValueTask SendAsync(ReadOnlyMemory<byte> bytes)
    {
        var pending = _socket.SendAsync(bytes, SocketFlags.None);
        if (pending.IsCompletedSuccessfully)
        {
            // Result, even though unused: it is what releases the socket's reusable operation for the next send.
            _ = pending.Result;
            Touch();
            return ValueTask.CompletedTask;
        }

        return AwaitSend(pending);
    }

    /// <summary>Reads more bytes after <see cref="End"/>, first making room at the end if the buffer is full. 0 means the app closed.</summary>
    public async ValueTask<int> ReceiveAsync()
    {
        if (Start == End)
        {
            Start = 0;
            End = 0;
        }
        else if (End == Buffer.Length)
        {
            var unread = End - Start;
            Buffer.AsSpan(Start, unread).CopyTo(Buffer);
            Start = 0;
            End = unread;
        }

        var received = await _socket.ReceiveAsync(Buffer.AsMemory(End), SocketFlags.None);
        End += received;
        _received += received;
        Touch();
        return received;
    }

    /// <summary>Records that bytes moved (to or from the app, or out to the client) so the request is not timed out.</summary>
    public void Touch() => LastActivity = Environment.TickCount64;

    /// <summary>Takes an idle connection out of its pool; false if the monitor closed it first.</summary>
    internal bool TryActivate()
    {
        // Fresh activity first, so the monitor never sees this busy with the time it went idle.
        LastActivity = Environment.TickCount64;
        return Interlocked.CompareExchange(ref _state, Busy, Idle) == Idle;
    }

    internal void MarkIdle()
    {
        LastActivity = Environment.TickCount64;
        Volatile.Write(ref _state, Idle);
    }

    /// <summary>Closes an idle connection unless a request took it at the same moment.</summary>
    internal bool TryCloseIdle()
    {
        if (Interlocked.CompareExchange(ref _state, Closed, Idle) != Idle)
        {
            return false;
        }

        Close();
        return true;
    }

    /// <summary>Ends the request in progress: its pending read fails and the forwarder sees <see cref="TimedOut"/>.</summary>
    internal void Expire()
    {
        Volatile.Write(ref _timedOut, 1);
        Dispose();
    }

    /// <summary>Abandons the connection from outside (the client went away): the pending read fails.</summary>
    public void Abort() => Dispose();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _state, Closed) != Closed)
        {
            Close();
        }
    }

    private void Close()
    {
        _monitor.Forget(this);
        _socket.Dispose();
    }

    private async ValueTask AwaitSend(ValueTask<int> pending)
    {
        await pending;
        Touch();
    }
}
