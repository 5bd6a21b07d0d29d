using System.Diagnostics;
using System.Text;
using Paas.Router.Forwarding;
using Paas.Router.Table;
using static Paas.Router.FrontEnd.Libc;
using static Paas.Router.FrontEnd.SocketIo;

namespace Paas.Router.FrontEnd;

// The client's side: reading heads, starting exchanges, handing connections to Kestrel and relaying them.
internal sealed unsafe partial class FrontEndLoop
{
    private void OnClient(ClientConnection client, uint events)
    {
        if ((events & EpollOut) != 0 || (client.HasPendingOutput && (events & (EpollErr | EpollHup)) != 0))
        {
            if (!Flush(client))
            {
                CloseClient(client);
                return;
            }

            client.LastActivity = Environment.TickCount64;
            if (!client.HasPendingOutput)
            {
                OnClientDrained(client);
                if (client.Closed)
                {
                    return;
                }
            }
        }

        switch (client.State)
        {
            case ClientConnection.Phase.ReadingHead:
                if ((events & (EpollIn | EpollErr | EpollHup)) != 0 && !client.IsBlocked)
                {
                    ReadClient(client);
                }
                else if ((events & EpollErr) != 0)
                {
                    CloseClient(client);
                }

                break;

            case ClientConnection.Phase.Exchanging:
                var gone = (events & (EpollRdHup | EpollErr | EpollHup)) != 0;
                if (!gone && (events & EpollIn) != 0 && client.InputLength < client.Input.Length)
                {
                    var read = Receive(client.Fd, client.Input.AsSpan(client.InputLength));
                    gone = read == 0 || read == -2;
                    if (read > 0)
                    {
                        client.HeadStarted = client.InputLength == 0 ? Environment.TickCount64 : client.HeadStarted;
                        client.InputLength += read;
                    }
                }

                if (gone)
                {
                    // The client left before its response was complete: nobody to answer, and not the app's fault.
                    AbortExchange(client, RouterErrorPage.ClientClosed);
                    return;
                }

                break;

            case ClientConnection.Phase.HandedOver:
                if ((events & (EpollErr | EpollHup)) != 0)
                {
                    CloseClient(client);
                    return;
                }

                if ((events & EpollIn) != 0)
                {
                    RelayToKestrel(client);
                }

                break;

            default:
                if ((events & (EpollErr | EpollHup)) != 0)
                {
                    CloseClient(client);
                }

                break;
        }

        Refresh(client);
    }

    private void OnClientDrained(ClientConnection client)
    {
        switch (client.State)
        {
            case ClientConnection.Phase.Exchanging when client.Link is { } link:
                // Back-pressure released: read from the app again, and the wait did not count against its timeout.
                link.LastActivity = client.LastActivity;
                Refresh(link);
                break;
            case ClientConnection.Phase.HandedOver:
                Refresh(client.Kestrel);
                break;
            case ClientConnection.Phase.Closing:
                CloseClient(client);
                break;
        }
    }

    private void ReadClient(ClientConnection client)
    {
        if (client.InputLength == client.Input.Length)
        {
            if (client.Input.Length >= _maxHead)
            {
                // Larger than any head this path takes: Kestrel answers it (431) by the general rules.
                HandOver(client);
                return;
            }

            var grown = GC.AllocateUninitializedArray<byte>(Math.Min(client.Input.Length * 4, _maxHead), pinned: true);
            client.Input.AsSpan(0, client.InputLength).CopyTo(grown);
            client.Input = grown;
        }

        var read = Receive(client, client.Input.AsSpan(client.InputLength));
        if (read == -1)
        {
            return;
        }

        if (read <= 0)
        {
            CloseClient(client);
            return;
        }

        var now = Environment.TickCount64;
        client.LastActivity = now;
        if (client.InputLength == 0)
        {
            client.HeadStarted = now;
        }

        client.InputLength += read;
        ProcessInput(client);
    }

    private static ReadOnlySpan<byte> AcmeChallengePath => "/.well-known/acme-challenge/"u8;

    /// <summary>Starts the next request if a whole head is in the buffer.</summary>
    private void ProcessInput(ClientConnection client)
    {
        if (client.InputLength == 0)
        {
            return;
        }

        var input = client.Input.AsSpan(0, client.InputLength);
        var headEnd = input.IndexOf("\r\n\r\n"u8);
        if (headEnd < 0)
        {
            // A head this path would never take: too large, or ended by a bare LF (which it would wait on
            // forever). Kestrel's parser judges it, so both front ends give one answer.
            if (client.InputLength >= _maxHead || HasBareLineFeed(input))
            {
                HandOver(client);
            }

            return;
        }

        var head = input[..(headEnd + 4)];
        if (!LeanRequest.TryParse(head, out var request))
        {
            HandOver(client);
            return;
        }

        // ACME HTTP-01 challenges are answered on the general path (ProxyHandler), from Redis.
        if (head[request.Target].StartsWith(AcmeChallengePath))
        {
            HandOver(client);
            return;
        }

        var hostBytes = head[request.Host];
        Span<char> hostChars = stackalloc char[hostBytes.Length];
        Encoding.ASCII.GetChars(hostBytes, hostChars);
        var lookup = _store.Current.Lookup(hostChars);
        // Unknown hosts and apps without instances get their error pages from the general path; sticky
        // sessions read and set cookies there too, an app in maintenance gets its page there, and one that redirects
        // plain HTTP gets its redirect there. None of them
        // is the traffic that needs this path's speed.
        if (lookup.Status != RouteLookupStatus.Found || lookup.Pool is not { AllByAddress: true, IsSticky: false, InMaintenance: false, RedirectsToHttps: false } pool)
        {
            HandOver(client);
            return;
        }

        // With many apps, what the exchange reads next about this one (its endpoint, the endpoint's state,
        // its metrics counter) is each a cache miss. Asked for now, they arrive while the head is written.
        CacheHint.Prefetch(pool.Sole);
        CacheHint.Prefetch(pool.SoleState);
        client.LikelyCounter = pool.LastStatusCounter;
        CacheHint.Prefetch(client.LikelyCounter);

        var started = Stopwatch.GetTimestamp();
        client.Request = request;
        client.Started = started;
        if (request.RequestId.Equals(default(Range)))
        {
            client.RequestIdLength = Forwarding.RequestId.WriteNew(client.RequestId);
        }
        else
        {
            var incoming = head[request.RequestId];
            incoming.CopyTo(client.RequestId);
            client.RequestIdLength = incoming.Length;
        }

        client.Pool = pool;
        client.Endpoint = null;
        client.Tried1 = null;
        client.Tried2 = null;
        client.Attempts = 0;
        client.UpstreamHeaders = 0;
        client.BodyBytes = 0;
        client.Status = 0;
        client.Error = null;
        client.HeadSent = false;
        client.CloseAfter = request.CloseAfter;
        client.TimeoutMs = pool.TimeoutMs ?? _defaultTimeoutMs;
        client.Host = CachedString(hostBytes, client.Host);
        var target = head[request.Target];
        var query = target.IndexOf((byte)'?');
        client.Path = CachedString(query < 0 ? target : target[..query], client.Path);
        client.OutgoingLength = request.Write(head, client.PeerText, client.RequestId.AsSpan(0, client.RequestIdLength),
            ProxyRequest.RequestStartUnixMs(started), ref client.Outgoing);

        // The head is copied out; what follows it (a pipelined request) moves to the front.
        var rest = client.InputLength - head.Length;
        client.Input.AsSpan(head.Length, rest).CopyTo(client.Input);
        client.InputLength = rest;
        client.HeadStarted = rest > 0 ? Environment.TickCount64 : 0;
        client.State = ClientConnection.Phase.Exchanging;
        Refresh(client);
        Attempt(client);
    }

    /// <summary>The string for <paramref name="bytes"/>, made again only when they differ from last time.</summary>
    private static string CachedString(ReadOnlySpan<byte> bytes, string last) =>
        System.Text.Ascii.Equals(bytes, last) ? last : Encoding.ASCII.GetString(bytes);

    /// <summary>
    /// Gives the connection to Kestrel from the request now at the front of the buffer: a PROXY protocol
    /// line first (the client's address and the port it reached, which X-Forwarded-* and access logs
    /// need), then every byte the client sent that has not been answered.
    /// </summary>
    private static bool HasBareLineFeed(ReadOnlySpan<byte> input)
    {
        for (var at = input.IndexOf((byte)'\n'); at >= 0; at = input[(at + 1)..].IndexOf((byte)'\n') is var next and >= 0 ? at + 1 + next : -1)
        {
            if (at == 0 || input[at - 1] != '\r')
            {
                return true;
            }
        }

        return false;
    }

    private void HandOver(ClientConnection client)
    {
        _metrics.HandedOver.Add(1);
        var fd = socket(AfUnix, SockStream | SockNonBlock | SockCloExec, 0);
        int connected;
        fixed (byte* address = _handoffAddress)
        {
            connected = fd < 0 ? -1 : connect(fd, address, _handoffAddress.Length);
        }

        if (connected != 0)
        {
            _logger.LogWarning("Front end: cannot hand a connection to Kestrel (errno {Errno}); closing it", Errno);
            if (fd >= 0)
            {
                close(fd);
            }

            CloseClient(client);
            return;
        }

        var kestrel = new KestrelLink(fd, _nextId++, client);
        client.Kestrel = kestrel;
        client.State = ClientConnection.Phase.HandedOver;
        Register(kestrel);

        var peer = client.Peer;
        var line = peer is null
            ? "PROXY UNKNOWN\r\n"
            : $"PROXY {(peer.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "TCP6" : "TCP4")} {peer.Address} {_localAddress} {peer.Port} {_localPort}\r\n";
        if (!Send(kestrel, Encoding.ASCII.GetBytes(line)) || !Send(kestrel, client.Input.AsSpan(0, client.InputLength)))
        {
            CloseClient(client);
            return;
        }

        client.InputLength = 0;
        Refresh(kestrel);
        Refresh(client);
    }

    private void RelayToKestrel(ClientConnection client)
    {
        var kestrel = client.Kestrel!;
        if (kestrel.HasPendingOutput || client.InputEnded)
        {
            return;
        }

        var read = Receive(client.Fd, client.Input);
        if (read == -1)
        {
            return;
        }

        if (read == -2)
        {
            CloseClient(client);
            return;
        }

        if (read == 0)
        {
            // The client is done sending; Kestrel learns it once everything before the end has reached it.
            client.InputEnded = true;
            if (kestrel.HasPendingOutput)
            {
                kestrel.ShutdownAfterFlush = true;
            }
            else
            {
                shutdown(kestrel.Fd, ShutWrite);
            }

            return;
        }

        if (!Send(kestrel, client.Input.AsSpan(0, read)))
        {
            CloseClient(client);
            return;
        }

        Refresh(kestrel);
    }

    private void OnKestrel(KestrelLink kestrel, uint events)
    {
        var client = kestrel.Client;
        if ((events & EpollOut) != 0)
        {
            if (!Flush(kestrel))
            {
                CloseClient(client);
                return;
            }

            if (!kestrel.HasPendingOutput)
            {
                if (kestrel.ShutdownAfterFlush)
                {
                    shutdown(kestrel.Fd, ShutWrite);
                }

                Refresh(client);
            }
        }

        if ((events & (EpollIn | EpollErr | EpollHup)) != 0 && !kestrel.Ended)
        {
            if (client.IsBlocked)
            {
                // Paused for the client, yet Kestrel's side failed: nothing more can be relayed.
                CloseClient(client);
                return;
            }

            var read = Receive(kestrel.Fd, kestrel.Buffer);
            if (read == -2 || read == 0)
            {
                kestrel.Ended = true;
                client.State = ClientConnection.Phase.Closing;
                Close(kestrel);
                client.Kestrel = null;
                if (!client.HasPendingOutput)
                {
                    CloseClient(client);
                }
                else
                {
                    Refresh(client);
                }

                return;
            }

            if (read > 0 && !Send(client, kestrel.Buffer.AsSpan(0, read)))
            {
                CloseClient(client);
                return;
            }
        }

        Refresh(kestrel);
        Refresh(client);
    }

    private void CloseClient(ClientConnection client)
    {
        if (client.Link is { } link)
        {
            client.Link = null;
            link.Client = null;
            Close(link);
        }

        EndAttempt(client);
        if (client.Kestrel is { } kestrel)
        {
            client.Kestrel = null;
            Close(kestrel);
        }

        Close(client);
    }
}
