namespace Paas.Router.FrontEnd;

/// <summary>
/// A client connection handed over to Kestrel (over a private Unix socket, with a PROXY protocol line
/// naming the client): from then on the loop only moves bytes both ways, with back-pressure.
/// </summary>
internal sealed class KestrelLink(int fd, uint id, ClientConnection client) : Channel(fd, id)
{
    public ClientConnection Client { get; } = client;

    public byte[] Buffer { get; } = new byte[16 * 1024];

    /// <summary>Kestrel closed its side; what is pending for the client is sent, then the client is closed.</summary>
    public bool Ended { get; set; }

    /// <summary>The client finished sending: pass the end on once everything before it has reached Kestrel.</summary>
    public bool ShutdownAfterFlush { get; set; }

    public override uint Interest =>
        (Ended || Client.IsBlocked ? 0 : Libc.EpollIn) | (IsBlocked ? Libc.EpollOut : 0);
}
