using System.Runtime.InteropServices;

namespace Paas.Router.FrontEnd;

/// <summary>
/// One thread's io_uring, used only as a way to make many socket calls in one system call: every
/// operation is queued with MSG_DONTWAIT, so the kernel completes it while submitting (a full socket
/// answers EAGAIN, as send/recv would) and <see cref="SubmitAndWait"/> returns with every result in hand.
/// On a VM a system call's entry and exit can cost more than the socket work itself (measured here: about
/// 1 µs for a call that does nothing; six loopback sends and six receives cost 3.9 µs per pair in one
/// submission each way, 7.2 µs as twelve calls), so a loop that sends and receives for a whole epoll
/// batch at once saves most of that. Not created (and the loop calls send/recv directly) where io_uring is unavailable or
/// turned off (kernel.io_uring_disabled, a seccomp filter, an old kernel).
/// </summary>
internal sealed unsafe partial class IoRing : IDisposable
{
    private const long SysIoUringSetup = 425, SysIoUringEnter = 426; // the same number on every architecture since 5.1
    private const uint SetupSubmitAll = 1 << 7, SetupSingleIssuer = 1 << 12;
    private const uint FeatSingleMmap = 1 << 0;
    private const uint EnterGetEvents = 1;
    private const byte OpSend = 26, OpRecv = 27;
    private const int ProtRead = 1, ProtWrite = 2, MapShared = 1, MapPopulate = 0x8000;
    private const long OffSqRing = 0, OffSqes = 0x10000000;
    private const int MsgDontWait = 0x40;

    private readonly int _fd;
    private readonly byte* _rings;
    private readonly nuint _ringsSize;
    private readonly Sqe* _sqes;
    private readonly nuint _sqesSize;
    private readonly uint* _sqHead, _sqTail, _sqArray;
    private readonly uint _sqMask;
    private readonly uint* _cqHead, _cqTail;
    private readonly uint _cqMask;
    private readonly Cqe* _cqes;
    private uint _queued;
    private bool _disposed;

    private IoRing(int fd, in Params p)
    {
        _fd = fd;
        Capacity = p.SqEntries;
        _ringsSize = Math.Max(p.SqOff.Array + p.SqEntries * sizeof(uint), p.CqOff.Cqes + p.CqEntries * (uint)sizeof(Cqe));
        _rings = (byte*)mmap(null, _ringsSize, ProtRead | ProtWrite, MapShared | MapPopulate, fd, OffSqRing);
        _sqesSize = p.SqEntries * (nuint)sizeof(Sqe);
        _sqes = (Sqe*)mmap(null, _sqesSize, ProtRead | ProtWrite, MapShared | MapPopulate, fd, OffSqes);
        if (_rings == (byte*)-1 || _sqes == (Sqe*)-1)
        {
            throw new IOException($"mmap of the io_uring rings failed (errno {Marshal.GetLastPInvokeError()})");
        }

        _sqHead = (uint*)(_rings + p.SqOff.Head);
        _sqTail = (uint*)(_rings + p.SqOff.Tail);
        _sqMask = *(uint*)(_rings + p.SqOff.RingMask);
        _sqArray = (uint*)(_rings + p.SqOff.Array);
        _cqHead = (uint*)(_rings + p.CqOff.Head);
        _cqTail = (uint*)(_rings + p.CqOff.Tail);
        _cqMask = *(uint*)(_rings + p.CqOff.RingMask);
        _cqes = (Cqe*)(_rings + p.CqOff.Cqes);
    }

    /// <summary>How many operations fit in one submission.</summary>
    public uint Capacity { get; }

    /// <summary>Operations queued since the last submission.</summary>
    public uint Queued => _queued;

    /// <summary>A ring for the calling thread (the only one that may use it), or null with the reason.</summary>
    public static IoRing? TryCreate(uint entries, out string? unavailable)
    {
        unavailable = null;
        var p = default(Params);
        p.Flags = SetupSubmitAll | SetupSingleIssuer;
        var fd = (int)syscall(SysIoUringSetup, entries, (long)&p, 0, 0, 0, 0);
        if (fd < 0)
        {
            // Older kernels know neither flag; nothing here depends on them.
            p = default;
            fd = (int)syscall(SysIoUringSetup, entries, (long)&p, 0, 0, 0, 0);
        }

        if (fd < 0)
        {
            unavailable = $"io_uring_setup failed (errno {Marshal.GetLastPInvokeError()})";
            return null;
        }

        if ((p.Features & FeatSingleMmap) == 0)
        {
            close(fd);
            unavailable = "the kernel's io_uring is too old (no single mmap)";
            return null;
        }

        try
        {
            return new IoRing(fd, p);
        }
        catch (IOException ex)
        {
            close(fd);
            unavailable = ex.Message;
            return null;
        }
    }

    /// <summary>Queues a send of <paramref name="length"/> bytes at <paramref name="buffer"/>, which must stay where it is until the submission.</summary>
    public void QueueSend(int fd, byte* buffer, int length, ulong tag) =>
        Queue(OpSend, fd, buffer, length, Libc.MsgNoSignal | MsgDontWait, tag);

    /// <summary>Queues a receive into <paramref name="buffer"/>, which must stay where it is until the submission.</summary>
    public void QueueRecv(int fd, byte* buffer, int length, ulong tag) =>
        Queue(OpRecv, fd, buffer, length, MsgDontWait, tag);

    private void Queue(byte opcode, int fd, byte* buffer, int length, int flags, ulong tag)
    {
        if (_queued >= Capacity)
        {
            throw new InvalidOperationException("the ring is full: submit before queueing more");
        }

        var tail = *_sqTail;
        var index = tail & _sqMask;
        var sqe = _sqes + index;
        *sqe = default;
        sqe->Opcode = opcode;
        sqe->Fd = fd;
        sqe->Addr = (ulong)buffer;
        sqe->Len = (uint)length;
        sqe->OpFlags = (uint)flags;
        sqe->UserData = tag;
        _sqArray[index] = index;
        Volatile.Write(ref *_sqTail, tail + 1);
        _queued++;
    }

    /// <summary>
    /// Submits what is queued and waits until each has its result (they complete during the submission
    /// itself, so this does not block); then read them with <see cref="TryTake"/>.
    /// </summary>
    public void SubmitAndWait()
    {
        var expected = _queued;
        _queued = 0;
        var toSubmit = expected;
        while (true)
        {
            var ready = Volatile.Read(ref *_cqTail) - *_cqHead;
            if (toSubmit == 0 && ready >= expected)
            {
                return;
            }

            var result = syscall(SysIoUringEnter, _fd, toSubmit, expected - Math.Min(ready, expected), EnterGetEvents, 0, 0);
            if (result < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno is Libc.EIntr or Libc.EAgain)
                {
                    continue;
                }

                throw new IOException($"io_uring_enter failed (errno {errno})");
            }

            toSubmit -= (uint)Math.Min(result, toSubmit);
        }
    }

    /// <summary>The next result: the tag it was queued with and what send/recv would have returned (a negative errno on failure).</summary>
    public bool TryTake(out ulong tag, out int result)
    {
        var head = *_cqHead;
        if (head == Volatile.Read(ref *_cqTail))
        {
            tag = 0;
            result = 0;
            return false;
        }

        var cqe = _cqes + (head & _cqMask);
        tag = cqe->UserData;
        result = cqe->Res;
        Volatile.Write(ref *_cqHead, head + 1);
        return true;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        munmap(_sqes, _sqesSize);
        munmap(_rings, _ringsSize);
        close(_fd);
    }

    [LibraryImport("libc", SetLastError = true)] private static partial long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);
    [LibraryImport("libc", SetLastError = true)] private static partial void* mmap(void* address, nuint length, int protection, int flags, int fd, long offset);
    [LibraryImport("libc")] private static partial int munmap(void* address, nuint length);
    [LibraryImport("libc")] private static partial int close(int fd);

    [StructLayout(LayoutKind.Sequential)]
    private struct SqRingOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Reserved1;
        public ulong UserAddress;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CqRingOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Reserved1;
        public ulong UserAddress;
    }

    /// <summary>struct io_uring_params (120 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Params
    {
        public uint SqEntries, CqEntries, Flags, SqThreadCpu, SqThreadIdle, Features, WqFd;
        public uint Reserved0, Reserved1, Reserved2;
        public SqRingOffsets SqOff;
        public CqRingOffsets CqOff;
    }

    /// <summary>struct io_uring_sqe (64 bytes), with only the fields a send or recv uses named.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    private struct Sqe
    {
        [FieldOffset(0)] public byte Opcode;
        [FieldOffset(4)] public int Fd;
        [FieldOffset(16)] public ulong Addr;
        [FieldOffset(24)] public uint Len;
        [FieldOffset(28)] public uint OpFlags;
        [FieldOffset(32)] public ulong UserData;
    }

    /// <summary>struct io_uring_cqe (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Cqe
    {
        public ulong UserData;
        public int Res;
        public uint Flags;
    }
}
