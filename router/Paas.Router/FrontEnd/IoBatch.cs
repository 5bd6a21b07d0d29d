using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Paas.Router.Observability;
using static Paas.Router.FrontEnd.Libc;

namespace Paas.Router.FrontEnd;

/// <summary>Where the handler of a readable channel is sure to read at once, or nothing when it might not.</summary>
internal delegate Span<byte> ReceiveTargetOf(Channel channel);

/// <summary>
/// The sends and receives of one epoll batch made in one io_uring submission each, rather than one system call per
/// socket: the receives the batch's handlers would each make first thing, before they run, and the sends they queue,
/// after. Belongs to the loop thread that made it (a ring belongs to the thread that submits to it). Whether a
/// channel may be batched, and what a result means for the exchange, is the loop's business, not this class's.
/// </summary>
internal sealed unsafe class IoBatch : IDisposable
{
    private readonly IoRing _ring;
    private readonly RouterMetrics _metrics;
    private readonly List<Channel> _toFlush = [];

    private IoBatch(IoRing ring, RouterMetrics metrics)
    {
        _ring = ring;
        _metrics = metrics;
    }

    /// <summary>A batch over a new ring, or null (with the reason) where the kernel does not allow one.</summary>
    public static IoBatch? TryCreate(uint entries, RouterMetrics metrics, out string? unavailable) =>
        IoRing.TryCreate(entries, out unavailable) is { } ring ? new IoBatch(ring, metrics) : null;

    public bool HasQueuedSends => _toFlush.Count > 0;

    /// <summary>
    /// Makes, in one submission, the receives this batch's events would each make first thing, into the buffers
    /// <paramref name="target"/> names; each result waits on its channel (<see cref="Channel.Received"/>) for the
    /// handler's read (<see cref="SocketIo.Receive(Channel, Span{byte})"/>).
    /// </summary>
    public void Receive(EpollEvent* ready, int count, EpollSet channels, ReceiveTargetOf target)
    {
        // A submission of one saves nothing over the call itself: the first wanted receive is only queued
        // once a second one turns up.
        var first = -1;
        var firstQueued = false;
        for (var i = 0; i < count; i++)
        {
            if ((ready[i].Events & (EpollIn | EpollErr | EpollHup)) == 0 || channels.ChannelOf(ready[i].Data) is not { } channel)
            {
                continue;
            }

            var space = target(channel);
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
                var firstChannel = channels.ChannelOf(ready[first].Data)!;
                QueueReceive(firstChannel, target(firstChannel), first);
                firstQueued = true;
            }
            else if (_ring.Queued == _ring.Capacity)
            {
                SubmitReceives(ready, channels);
            }

            QueueReceive(channel, space, i);
        }

        if (_ring.Queued > 0)
        {
            SubmitReceives(ready, channels);
        }
    }

    private void QueueReceive(Channel channel, Span<byte> space, int eventIndex) =>
        _ring.QueueRecv(channel.Fd, (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(space)), space.Length, (ulong)eventIndex);

    private void SubmitReceives(EpollEvent* ready, EpollSet channels)
    {
        _metrics.BatchedIo.Add(_ring.Queued);
        _ring.SubmitAndWait();
        while (_ring.TryTake(out var eventIndex, out var result))
        {
            channels.ChannelOf(ready[(int)eventIndex].Data)!.Received = result;
        }
    }

    /// <summary>Keeps <paramref name="bytes"/> on the channel to go with the rest of the batch's sends (<see cref="Flush"/>).</summary>
    public void Send(Channel channel, ReadOnlySpan<byte> bytes)
    {
        channel.Enqueue(bytes);
        if (!channel.FlushQueued)
        {
            channel.FlushQueued = true;
            _toFlush.Add(channel);
        }
    }

    /// <summary>
    /// Makes the batch's queued sends in one submission, handing each channel's result (bytes sent or a negative
    /// errno) to <paramref name="done"/>, which may queue more: those go in the next round.
    /// </summary>
    public void Flush(Action<Channel, int> done)
    {
        while (_toFlush.Count > 0)
        {
            var round = Math.Min(_toFlush.Count, (int)_ring.Capacity);
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
                    done(channel, sent >= 0 ? (int)sent : -Errno);
                }
                else
                {
                    _ring.QueueSend(channel.Fd, channel.PendingAddress, channel.PendingOutput.Length, (ulong)i);
                }
            }

            if (_ring.Queued > 0)
            {
                _metrics.BatchedIo.Add(_ring.Queued);
                _ring.SubmitAndWait();
                while (_ring.TryTake(out var tag, out var result))
                {
                    done(_toFlush[(int)tag], result);
                }
            }

            _toFlush.RemoveRange(0, round);
        }
    }

    /// <summary>After a failed <see cref="Flush"/>: the queued channels' bytes may or may not have gone, so each goes to <paramref name="close"/>.</summary>
    public void Abandon(Action<Channel> close)
    {
        foreach (var channel in _toFlush)
        {
            channel.FlushQueued = false;
            close(channel);
        }

        _toFlush.Clear();
    }

    public void Dispose() => _ring.Dispose();
}
