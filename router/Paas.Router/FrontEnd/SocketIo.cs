using static Paas.Router.FrontEnd.Libc;

namespace Paas.Router.FrontEnd;

/// <summary>
/// Non-blocking send and receive on a <see cref="Channel"/>, one system call at a time, with EINTR retried and EAGAIN
/// turned into "later" (bytes kept on the channel, or -1). The event loop's batched path (<see cref="IoBatch"/>)
/// falls back to these whenever batching would save nothing.
/// </summary>
internal static unsafe class SocketIo
{
    /// <summary>Sends now what the socket takes and queues the rest; false when the peer is gone.</summary>
    public static bool Send(Channel channel, ReadOnlySpan<byte> bytes)
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
    public static bool Flush(Channel channel)
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
    public static int Receive(Channel channel, Span<byte> buffer)
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
    public static int Receive(int fd, Span<byte> buffer)
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
