using static Paas.Router.FrontEnd.Libc;

namespace Paas.Router.FrontEnd;

/// <summary>
/// One event loop's epoll instance and the channels registered with it, found from an event by descriptor and
/// checked by id (an event can outlive the close of the channel it was for, and a new channel can get its
/// descriptor). Level-triggered: a mask brought in line late misses nothing.
/// </summary>
internal sealed unsafe class EpollSet : IDisposable
{
    /// <summary>The event data that marks the listener (fd -1 as a channel: never a slot).</summary>
    public const ulong ListenerMarker = uint.MaxValue;

    private readonly int _epoll;
    private Channel?[] _channels = new Channel?[1024];

    public EpollSet(int listener)
    {
        _epoll = epoll_create1(0x80000);
        if (_epoll < 0)
        {
            throw new IOException($"epoll_create1 failed (errno {Errno})");
        }

        var ev = new EpollEvent { Events = EpollIn, Data = ListenerMarker };
        epoll_ctl(_epoll, EpollCtlAdd, listener, &ev);
        Listener = listener;
    }

    public int Listener { get; }

    /// <summary>Every slot, live or empty; a snapshot stays valid to walk while channels come and go.</summary>
    public Channel?[] Slots => _channels;

    public int Wait(EpollEvent* ready, int max, int timeoutMs) => epoll_wait(_epoll, ready, max, timeoutMs);

    public void SetListenerInterest(uint events)
    {
        var ev = new EpollEvent { Events = events, Data = ListenerMarker };
        epoll_ctl(_epoll, EpollCtlMod, Listener, &ev);
    }

    /// <summary>
    /// The live channel an epoll event is for, or null when it is for one already closed, or for no channel at all:
    /// the listener's marker is fd -1 here, and must not index the table (it did, from the batched receive, whenever
    /// an accept shared a batch with reads: found by make chaos).
    /// </summary>
    public Channel? ChannelOf(ulong data)
    {
        var fd = (int)(data & 0xFFFFFFFF);
        var channel = (uint)fd < (uint)_channels.Length ? _channels[fd] : null;
        return channel is null || channel.Id != (uint)(data >> 32) ? null : channel;
    }

    public void Register(Channel channel)
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

    /// <summary>Brings the epoll mask in line with what the channel now wants.</summary>
    public void Refresh(Channel? channel)
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

    /// <summary>Unregisters and closes the channel's socket; false when it was closed already.</summary>
    public bool Close(Channel channel)
    {
        if (channel.Closed)
        {
            return false;
        }

        channel.Closed = true;
        epoll_ctl(_epoll, EpollCtlDel, channel.Fd, null);
        _channels[channel.Fd] = null;
        close(channel.Fd);
        return true;
    }

    public void Dispose()
    {
        close(Listener);
        close(_epoll);
    }
}
