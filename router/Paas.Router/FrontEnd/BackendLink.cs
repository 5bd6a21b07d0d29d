using Paas.Router.Forwarding.Http1;

namespace Paas.Router.FrontEnd;

/// <summary>
/// A keep-alive connection from one loop to one app instance, used by one exchange at a time and kept in
/// the loop's idle list between them. Connections are per loop, so no lock is ever taken for one.
/// </summary>
internal sealed class BackendLink(int fd, uint id, BackendConnectionPool pool, long now) : Channel(fd, id)
{
    public enum Phase { Connecting, Sending, Receiving, Idle }

    public enum Framing { None, Length, Chunked, UntilClose }

    public BackendConnectionPool Pool { get; } = pool;

    public long Created { get; } = now;

    public Phase State { get; set; } = Phase.Connecting;

    /// <summary>The exchange this connection serves; null while idle.</summary>
    public ClientConnection? Client { get; set; }

    /// <summary>Taken from the idle list (the app may have closed it meanwhile) rather than opened for this request.</summary>
    public bool Reused { get; set; }

    public long ConnectStarted { get; set; } = now;

    /// <summary>Bytes of the request head sent so far.</summary>
    public int Sent { get; set; }

    /// <summary>Response bytes received and not yet handled are <c>Buffer[Start..End]</c>.</summary>
    public byte[] Buffer { get; } = GC.AllocateUninitializedArray<byte>(32 * 1024, pinned: true); // pinned: batched receives write here by address

    public int Start { get; set; }

    public int End { get; set; }

    public bool ReceivedAny { get; set; }

    public bool HeadDone { get; set; }

    public ResponseHead Head { get; } = new(keepHeaders: false);

    public ChunkedDecoder Decoder;

    public Framing BodyFraming { get; set; }

    public long Remaining { get; set; }

    public void Begin(ClientConnection client, long now)
    {
        Client = client;
        Sent = 0;
        Start = 0;
        End = 0;
        ReceivedAny = false;
        HeadDone = false;
        Decoder = default;
        LastActivity = now;
    }

    public override uint Interest => State switch
    {
        Phase.Connecting or Phase.Sending => Libc.EpollOut,
        // Paused while the client has not taken what it was sent: the kernel's buffers then push back on the app.
        // The rest of the request goes out first when the kernel would not take it all at once.
        Phase.Receiving => (Client is { IsBlocked: true } ? 0 : Libc.EpollIn) | (IsBlocked ? Libc.EpollOut : 0),
        // Idle: readable means the app closed it (or sent what nobody asked for). The same mask as while
        // receiving, so taking it from the idle list and putting it back costs no epoll_ctl.
        _ => Libc.EpollIn,
    };
}
