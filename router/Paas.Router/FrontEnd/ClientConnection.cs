using System.Net;
using Paas.Router.Observability;
using Paas.Router.Table;

namespace Paas.Router.FrontEnd;

/// <summary>
/// A client's connection to the public port and the exchange in progress on it (at most one: responses
/// go back in request order, so a pipelined request waits in <see cref="Input"/> until its turn).
/// </summary>
internal sealed class ClientConnection(int fd, uint id, IPEndPoint? peer, byte[] peerText) : Channel(fd, id)
{
    public enum Phase { ReadingHead, Exchanging, HandedOver, Closing }

    public Phase State { get; set; }

    public IPEndPoint? Peer { get; } = peer;

    /// <summary>The peer's address as it goes into X-Forwarded-For.</summary>
    public byte[] PeerText { get; } = peerText;

    /// <summary>Pinned: batched receives write here by address.</summary>
    public byte[] Input { get; set; } = GC.AllocateUninitializedArray<byte>(4096, pinned: true);

    public int InputLength { get; set; }

    /// <summary>When the first byte of the head now being read arrived; 0 between requests.</summary>
    public long HeadStarted { get; set; }

    public KestrelLink? Kestrel { get; set; }

    /// <summary>The client sent its last byte (in <see cref="Phase.HandedOver"/>).</summary>
    public bool InputEnded { get; set; }

    // The exchange in progress, reset for each request.
    public LeanRequest Request;
    public long Started;
    /// <summary>The request's id as sent to the app; a string is made only for an error page or a log line.</summary>
    public readonly byte[] RequestId = new byte[Forwarding.RequestId.MaxLength];
    public int RequestIdLength;
    public string RequestIdText => System.Text.Encoding.ASCII.GetString(RequestId, 0, RequestIdLength);
    public AppPool? Pool;
    public Destination? Endpoint;
    /// <summary><see cref="Endpoint"/>'s state, held here so ending the attempt reads one object rather than two.</summary>
    public EndpointState? EndpointState;
    /// <summary>The metrics counter the app's last request used: likely this one's too, so asked for before the response arrives.</summary>
    public StatusCounter? LikelyCounter;
    public Destination? Tried1;
    public Destination? Tried2;
    public int Attempts;
    /// <summary>The current attempt is counted as outstanding on <see cref="Endpoint"/>.</summary>
    public bool InFlight;
    public long AttemptStarted;
    public long UpstreamHeaders;
    public long TimeoutMs;
    public long BodyBytes;
    public int Status;
    public string? Error;
    public bool HeadSent;
    public bool CloseAfter;
    public BackendLink? Link;
    public byte[] Outgoing = new byte[1024];
    public int OutgoingLength;

    // Strings for the access log, kept while the next request repeats the same bytes (it nearly always does).
    public string Host = "";
    public string Path = "";

    public override uint Interest => State switch
    {
        // Nothing more is read while a response is still queued for the client: it is not keeping up.
        Phase.ReadingHead => IsBlocked ? Libc.EpollOut : Libc.EpollIn,
        // Still read (the same mask as between requests saves an epoll_ctl per request both ways): a pipelined
        // request is buffered until this one is done, and an end of stream means the client left.
        Phase.Exchanging => (InputLength < Input.Length ? Libc.EpollIn : Libc.EpollRdHup) | (IsBlocked ? Libc.EpollOut : 0),
        Phase.HandedOver => (InputEnded || Kestrel is { IsBlocked: true } ? 0 : Libc.EpollIn) | (IsBlocked ? Libc.EpollOut : 0),
        _ => IsBlocked ? Libc.EpollOut : 0,
    };
}
