using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

    /// <summary>The pending bytes wait for the loop's batched send at the end of this epoll batch, not for the socket to drain.</summary>
    public bool FlushQueued { get; set; }

    /// <summary>The kernel would not take everything: bytes wait for the socket to become writable (what back-pressure and epoll follow).</summary>
    public bool IsBlocked => HasPendingOutput && !FlushQueued;

    public ReadOnlySpan<byte> PendingOutput => _pending.AsSpan(_pendingStart, _pendingEnd - _pendingStart);

    /// <summary>Where <see cref="PendingOutput"/> starts in memory (the buffer is pinned).</summary>
    public unsafe byte* PendingAddress => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_pending!)) + _pendingStart;

    public void Enqueue(ReadOnlySpan<byte> bytes)
    {
        if (_pending is null || _pendingEnd + bytes.Length > _pending.Length)
        {
            var unsent = _pendingEnd - _pendingStart;
            // Pinned: a batched send hands the kernel this buffer's address.
            var grown = GC.AllocateUninitializedArray<byte>(Math.Max(Math.Max(4 * 1024, (unsent + bytes.Length) * 2), _pending?.Length ?? 0), pinned: true);
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

    /// <summary>
    /// What the batch's receive for this channel returned (bytes, 0 at end of stream, or a negative errno),
    /// or <see cref="NoReceive"/>: the next read takes it instead of calling recv.
    /// </summary>
    public int Received { get; set; } = NoReceive;

    public const int NoReceive = int.MinValue;

    /// <summary>The epoll mask this channel wants in its current state.</summary>
    public abstract uint Interest { get; }
}
