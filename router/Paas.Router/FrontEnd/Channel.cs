namespace Paas.Router.FrontEnd;

/// <summary>
/// A non-blocking socket owned by one <see cref="FrontEndLoop"/>, with the bytes accepted for it that the
/// kernel could not take yet. Only its loop's thread ever touches it.
/// </summary>
internal abstract class Channel(int fd, uint id)
{
    private byte[]? _pending;
    private int _pendingStart;
    private int _pendingEnd;

    public int Fd { get; } = fd;

    /// <summary>Tells this channel from an earlier one that had the same descriptor (epoll events can outlive a close).</summary>
    public uint Id { get; } = id;

    /// <summary>The epoll mask last registered.</summary>
    public uint Registered { get; set; }

    public bool Closed { get; set; }

    /// <summary>Monotonic milliseconds when bytes last moved; what idle and backend timeouts are measured from.</summary>
    public long LastActivity { get; set; }

    public bool HasPendingOutput => _pendingEnd > _pendingStart;

    public ReadOnlySpan<byte> PendingOutput => _pending.AsSpan(_pendingStart, _pendingEnd - _pendingStart);

    public void Enqueue(ReadOnlySpan<byte> bytes)
    {
        if (_pending is null || _pendingEnd + bytes.Length > _pending.Length)
        {
            var unsent = _pendingEnd - _pendingStart;
            var grown = new byte[Math.Max(Math.Max(16 * 1024, (unsent + bytes.Length) * 2), _pending?.Length ?? 0)];
            PendingOutput.CopyTo(grown);
            _pending = grown;
            _pendingStart = 0;
            _pendingEnd = unsent;
        }

        bytes.CopyTo(_pending.AsSpan(_pendingEnd));
        _pendingEnd += bytes.Length;
    }

    public void Dequeue(int count)
    {
        _pendingStart += count;
        if (_pendingStart == _pendingEnd)
        {
            _pendingStart = 0;
            _pendingEnd = 0;
        }
    }

    /// <summary>The epoll mask this channel wants in its current state.</summary>
    public abstract uint Interest { get; }
}
