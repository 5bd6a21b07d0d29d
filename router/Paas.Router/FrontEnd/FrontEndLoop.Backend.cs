using System.Diagnostics;
using System.Text;
using Paas.Router.Forwarding;
using Paas.Router.Forwarding.Http1;
using Paas.Router.Health;
using Paas.Router.Observability;
using Paas.Router.Table;
using static Paas.Router.FrontEnd.Libc;
using static Paas.Router.FrontEnd.SocketIo;

namespace Paas.Router.FrontEnd;

// The app's side: attempts, connections, sending the head, passing the response on, and how an exchange ends.
internal sealed unsafe partial class FrontEndLoop
{
    private void Attempt(ClientConnection client)
    {
        var pool = client.Pool!;
        var now = PassiveHealth.Now;
        var endpoint = pool.Policy.Pick(pool, client.Tried1, client.Tried2, now);
        if (endpoint is null)
        {
            Fail(client, StatusCodes.Status502BadGateway, RouterErrorPage.EndpointFailure, $"{pool.App} failed to answer this request.");
            return;
        }

        client.Endpoint = endpoint;
        client.EndpointState = endpoint.State;
        client.Attempts++;
        client.AttemptStarted = Stopwatch.GetTimestamp();
        client.EndpointState.Begin();
        client.InFlight = true;
        Connect(client, endpoint, allowIdle: true);
    }

    /// <summary>Puts the exchange on an idle connection to the endpoint, or a new one.</summary>
    private void Connect(ClientConnection client, Destination endpoint, bool allowIdle)
    {
        var now = Environment.TickCount64;
        var link = allowIdle ? TakeIdle(endpoint.Connections) : null;
        if (link is null)
        {
            link = Open(endpoint.Connections, now);
            if (link is null)
            {
                AttemptFailed(client, connectFailure: true);
                return;
            }
        }

        link.Begin(client, now);
        client.Link = link;
        if (link.State == BackendLink.Phase.Connecting)
        {
            Refresh(link);
            return;
        }

        link.State = BackendLink.Phase.Sending;
        SendRequest(link);
    }

    private BackendLink? TakeIdle(BackendConnectionPool pool)
    {
        if (!_idle.TryGetValue(pool, out var idle))
        {
            return null;
        }

        // Most recently used first: a quiet spell lets the least used ones idle out.
        while (idle.Count > 0)
        {
            var link = idle[^1];
            idle.RemoveAt(idle.Count - 1);
            if (!link.Closed)
            {
                link.Reused = true;
                return link;
            }
        }

        return null;
    }

    private BackendLink? Open(BackendConnectionPool pool, long now)
    {
        var address = pool.NativeAddress!;
        var fd = socket(address[0] == AfInet6 ? AfInet6 : AfInet, SockStream | SockNonBlock | SockCloExec, 0);
        if (fd < 0)
        {
            return null;
        }

        SetOption(fd, IpProtoTcp, TcpNoDelay, 1);
        int result;
        fixed (byte* sockaddr = address)
        {
            result = connect(fd, sockaddr, address.Length);
        }

        if (result != 0 && Errno != EInProgress)
        {
            close(fd);
            return null;
        }

        var link = new BackendLink(fd, _nextId++, pool, now)
        {
            State = result == 0 ? BackendLink.Phase.Sending : BackendLink.Phase.Connecting,
            LastActivity = now,
        };
        Register(link);
        return link;
    }

    private void OnBackend(BackendLink link, uint events)
    {
        if (link.Client is not { } client)
        {
            // Idle: the app closed it, or sent bytes nobody asked for. Either way it cannot be reused.
            Close(link);
            return;
        }

        switch (link.State)
        {
            case BackendLink.Phase.Connecting:
                if (PendingError(link.Fd) != 0)
                {
                    AttemptFailed(client, connectFailure: true);
                    return;
                }

                link.State = BackendLink.Phase.Sending;
                SendRequest(link);
                return;

            case BackendLink.Phase.Sending:
                SendRequest(link);
                return;

            case BackendLink.Phase.Receiving:
                // Finishing the exchange reads these; with many apps each is a cache miss, now overlapped with the read.
                CacheHint.Prefetch(client.EndpointState);
                CacheHint.Prefetch(client.Pool);
                CacheHint.Prefetch(client.LikelyCounter);
                if (link.IsBlocked && (events & EpollOut) != 0)
                {
                    // The rest of a request head a batched send could not place.
                    if (!Flush(link))
                    {
                        BatchedSendFailed(link);
                        return;
                    }

                    Refresh(link);
                }

                if (client.IsBlocked)
                {
                    if ((events & (EpollErr | EpollHup)) != 0)
                    {
                        AbortExchange(client, RouterErrorPage.EndpointFailure);
                    }

                    return;
                }

                ReadResponse(link, client);
                return;
        }
    }

    private void SendRequest(BackendLink link)
    {
        var client = link.Client!;
        if (_batch is not null && link.Sent == 0 && !link.HasPendingOutput)
        {
            // With the batch's other sends, in one system call; the response is read once it arrives.
            link.Sent = client.OutgoingLength;
            SendBatched(link, client.Outgoing.AsSpan(0, client.OutgoingLength));
            link.LastActivity = Environment.TickCount64;
            link.State = BackendLink.Phase.Receiving;
            Refresh(link);
            return;
        }

        while (link.Sent < client.OutgoingLength)
        {
            nint sent;
            fixed (byte* start = client.Outgoing)
            {
                sent = send(link.Fd, start + link.Sent, client.OutgoingLength - link.Sent, MsgNoSignal);
            }

            if (sent > 0)
            {
                link.Sent += (int)sent;
                continue;
            }

            var errno = Errno;
            if (sent < 0 && errno == EIntr)
            {
                continue;
            }

            if (sent < 0 && errno == EAgain)
            {
                Refresh(link);
                return;
            }

            ClosedBeforeResponse(link, client);
            return;
        }

        link.LastActivity = Environment.TickCount64;
        link.State = BackendLink.Phase.Receiving;
        Refresh(link);
    }

    private void ReadResponse(BackendLink link, ClientConnection client)
    {
        var read = Receive(link, ReceiveSpace(link));
        if (read == -1)
        {
            return;
        }

        if (read > 0)
        {
            link.End += read;
            link.ReceivedAny = true;
            link.LastActivity = Environment.TickCount64;
            Pump(link, client);
            return;
        }

        // The app closed the connection (or it failed).
        if (!client.HeadSent)
        {
            ClosedBeforeResponse(link, client);
        }
        else if (read == 0 && link.BodyFraming == BackendLink.Framing.UntilClose)
        {
            Complete(link, client);
        }
        else
        {
            // Cut short after the client got the head: it must see a failure, not a response that looks complete.
            AbortExchange(client, RouterErrorPage.EndpointFailure);
        }
    }

    /// <summary>Where the next bytes from the app go: after those not yet handled, moved to the front when the end is reached.</summary>
    private static Span<byte> ReceiveSpace(BackendLink link)
    {
        if (link.Start == link.End)
        {
            link.Start = 0;
            link.End = 0;
        }
        else if (link.End == link.Buffer.Length)
        {
            var unread = link.End - link.Start;
            link.Buffer.AsSpan(link.Start, unread).CopyTo(link.Buffer);
            link.Start = 0;
            link.End = unread;
        }

        return link.Buffer.AsSpan(link.End);
    }

    /// <summary>The app closed before its response head was complete.</summary>
    private void ClosedBeforeResponse(BackendLink link, ClientConnection client)
    {
        if (link.Reused && !link.ReceivedAny)
        {
            // The app had closed this idle connection before our request reached it (it idled out on the
            // app's side): nothing was processed, so the request goes again, on a new connection.
            link.Client = null;
            client.Link = null;
            Close(link);
            Connect(client, client.Endpoint!, allowIdle: false);
            return;
        }

        AttemptFailed(client, connectFailure: false);
    }

    /// <summary>
    /// An attempt failed before anything of a response reached the client, in one of the two ways
    /// <see cref="RetryRule.IsSafe"/> allows a retry for: the connection failed, or the app closed it before
    /// responding to a bodiless idempotent request (every request this path takes is one).
    /// </summary>
    private void AttemptFailed(ClientConnection client, bool connectFailure)
    {
        var endpoint = client.Endpoint!;
        if (client.Link is { } link)
        {
            link.Client = null;
            client.Link = null;
            Close(link);
        }

        EndAttempt(client);
        if (connectFailure)
        {
            _health.ReportConnectFailure(endpoint);
        }

        if (client.Attempts < MaxAttempts)
        {
            _metrics.Retries.Increment();
            if (client.Attempts == 1)
            {
                client.Tried1 = endpoint;
            }
            else
            {
                client.Tried2 = endpoint;
            }

            Attempt(client);
            return;
        }

        _logger.LogWarning("Forwarding to {Instance} at {Address} for {App} failed after {Attempts} attempt(s)",
            endpoint.Instance, endpoint.Address, client.Pool!.App, client.Attempts);
        Fail(client, StatusCodes.Status502BadGateway, RouterErrorPage.EndpointFailure, $"{client.Pool!.App} failed to answer this request.");
    }

    /// <summary>Handles what has arrived from the app: the head once, then body bytes by the response's framing.</summary>
    private void Pump(BackendLink link, ClientConnection client)
    {
        _staged = 0;
        if (!link.HeadDone)
        {
            while (true)
            {
                var parsed = link.Head.TryParse(link.Buffer.AsSpan(link.Start, link.End - link.Start), out var length);
                if (parsed == ResponseHead.Result.Incomplete)
                {
                    return;
                }

                if (parsed == ResponseHead.Result.Invalid || link.Head.StatusCode == StatusCodes.Status101SwitchingProtocols)
                {
                    InvalidResponse(link, client);
                    return;
                }

                var headStart = link.Start;
                link.Start += length;
                if (link.Head.StatusCode < 200)
                {
                    // An interim response (103 Early Hints): the real one follows.
                    continue;
                }

                client.UpstreamHeaders = Stopwatch.GetTimestamp();
                StageHead(link, client, link.Buffer.AsSpan(headStart, length));

                link.HeadDone = true;
                break;
            }
        }

        var done = false;
        switch (link.BodyFraming)
        {
            case BackendLink.Framing.None:
                done = true;
                break;

            case BackendLink.Framing.Length:
                var take = (int)Math.Min(link.Remaining, link.End - link.Start);
                Stage(link.Buffer.AsSpan(link.Start, take));
                link.Start += take;
                link.Remaining -= take;
                client.BodyBytes += take;
                done = link.Remaining == 0;
                break;

            case BackendLink.Framing.Chunked:
                // The app's chunked framing goes to the client as it is; the decoder only finds where it ends.
                var from = link.Start;
                while (link.Start < link.End && !link.Decoder.IsComplete)
                {
                    if (!link.Decoder.Decode(link.Buffer.AsSpan(link.Start, link.End - link.Start), out var consumed, out _, out var data))
                    {
                        SendStaged(client);
                        AbortExchange(client, RouterErrorPage.EndpointFailure);
                        return;
                    }

                    link.Start += consumed;
                    client.BodyBytes += data;
                }

                Stage(link.Buffer.AsSpan(from, link.Start - from));
                done = link.Decoder.IsComplete;
                break;

            case BackendLink.Framing.UntilClose:
                Stage(link.Buffer.AsSpan(link.Start, link.End - link.Start));
                client.BodyBytes += link.End - link.Start;
                link.Start = link.End;
                break;
        }

        if (!SendStaged(client))
        {
            AbortExchange(client, RouterErrorPage.ClientClosed);
            return;
        }

        if (done)
        {
            Complete(link, client);
            return;
        }

        Refresh(client);
        Refresh(link);
    }

    /// <summary>
    /// Stages the head for the client: the status line, the app's end-to-end header lines as it wrote them,
    /// the framing header that matches how the body is passed on, and Connection: close when this is the
    /// connection's last response. <see cref="ResponseHead"/> has already refused a head with a line unsafe to pass on.
    /// </summary>
    private void StageHead(BackendLink link, ClientConnection client, ReadOnlySpan<byte> head)
    {
        var response = link.Head;
        var status = response.StatusCode;
        var bodyless = client.Request.IsHead || status is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified;
        link.BodyFraming = bodyless ? BackendLink.Framing.None
            : response.Chunked ? BackendLink.Framing.Chunked
            : !response.UntilClose && response.ContentLength >= 0 ? BackendLink.Framing.Length
            : BackendLink.Framing.UntilClose;
        link.Remaining = response.ContentLength;
        if (link.BodyFraming == BackendLink.Framing.UntilClose)
        {
            // The body ends when the app closes, so the client's connection must end with it.
            client.CloseAfter = true;
        }

        client.Status = status;
        Stage(StatusLine(status));
        var position = head.IndexOf((byte)'\n') + 1;
        while (true)
        {
            var rest = head[position..];
            var lineEnd = rest.IndexOf((byte)'\n');
            var line = rest[..lineEnd];
            position += lineEnd + 1;
            if (line.Length > 0 && line[^1] == '\r')
            {
                line = line[..^1];
            }

            if (line.IsEmpty)
            {
                break;
            }

            var colon = line.IndexOf((byte)':');
            var keep = ResponseHead.KindOf(line[..colon]) switch
            {
                ResponseHead.HeaderKind.EndToEnd => true,
                ResponseHead.HeaderKind.ContentLength => link.BodyFraming == BackendLink.Framing.Length
                    || (client.Request.IsHead && status is not (StatusCodes.Status204NoContent or StatusCodes.Status304NotModified)),
                ResponseHead.HeaderKind.TransferEncoding => link.BodyFraming == BackendLink.Framing.Chunked,
                _ => false,
            };

            if (!keep)
            {
                continue;
            }

            Stage(line);
            Stage("\r\n"u8);
        }

        if (client.CloseAfter)
        {
            Stage("Connection: close\r\n"u8);
        }

        Stage("\r\n"u8);
        client.HeadSent = true;
    }

    private static byte[] StatusLine(int status)
    {
        var line = StatusLines[status];
        if (line is null)
        {
            line = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)}\r\n");
            StatusLines[status] = line;
        }

        return line;
    }

    private void Stage(ReadOnlySpan<byte> bytes)
    {
        if (_staged + bytes.Length > _stage.Length)
        {
            Array.Resize(ref _stage, Math.Max(_stage.Length * 2, _staged + bytes.Length));
        }

        bytes.CopyTo(_stage.AsSpan(_staged));
        _staged += bytes.Length;
    }

    private bool SendStaged(ClientConnection client)
    {
        var ok = _staged == 0 || SendBatched(client, _stage.AsSpan(0, _staged));
        _staged = 0;
        client.LastActivity = Environment.TickCount64;
        return ok;
    }

    private void InvalidResponse(BackendLink link, ClientConnection client)
    {
        _staged = 0;
        client.HeadSent = false;
        _logger.LogWarning("{Address} sent a response for {App} that cannot be forwarded", link.Pool.Address, client.Pool!.App);
        Fail(client, StatusCodes.Status502BadGateway, RouterErrorPage.EndpointFailure, $"{client.Pool!.App} failed to answer this request.");
    }

    /// <summary>The response went through whole.</summary>
    private void Complete(BackendLink link, ClientConnection client)
    {
        EndAttempt(client);
        PassiveHealth.ReportSuccess(client.EndpointState!, PassiveHealth.Now);
        link.Client = null;
        client.Link = null;
        // Reused only when nothing of this exchange is left on it either way (an app may answer before
        // it has read the whole request).
        if (link.Head.KeepAlive && link.BodyFraming != BackendLink.Framing.UntilClose && link.Start == link.End && !link.HasPendingOutput)
        {
            link.State = BackendLink.Phase.Idle;
            link.LastActivity = Environment.TickCount64;
            if (!_idle.TryGetValue(link.Pool, out var idle))
            {
                idle = [];
                _idle[link.Pool] = idle;
            }

            idle.Add(link);
            Refresh(link);
        }
        else
        {
            Close(link);
        }

        Log(client);
        Finish(client);
    }

    /// <summary>Answers with the router's own error page (nothing of the app's response has been sent).</summary>
    private void Fail(ClientConnection client, int status, string code, string message)
    {
        if (client.Link is { } link)
        {
            link.Client = null;
            client.Link = null;
            Close(link);
        }

        EndAttempt(client);

        var page = RouterErrorPage.Render(status, code, message, client.RequestIdText, client.Request.IsHead, client.CloseAfter);
        client.Status = status;
        client.Error = code;
        client.BodyBytes = Encoding.UTF8.GetByteCount(message) + 1;
        if (!Send(client, page))
        {
            CloseClient(client);
            Log(client);
            return;
        }

        Log(client);
        Finish(client);
    }

    /// <summary>The attempt in progress no longer counts as outstanding on its endpoint (least-requests balancing reads it).</summary>
    private static void EndAttempt(ClientConnection client)
    {
        if (client.InFlight)
        {
            client.InFlight = false;
            client.EndpointState!.End();
        }
    }

    /// <summary>Ends the exchange and the client's connection: the client left, or the response broke off midway.</summary>
    private void AbortExchange(ClientConnection client, string reason)
    {
        if (client.State != ClientConnection.Phase.Exchanging)
        {
            CloseClient(client);
            return;
        }

        client.Status = client.HeadSent ? client.Status : 499;
        client.Error = reason;
        CloseClient(client);
        Log(client);
    }

    private void Finish(ClientConnection client)
    {
        client.Pool = null;
        client.Endpoint = null;
        client.EndpointState = null;
        client.LikelyCounter = null;
        client.Tried1 = null;
        client.Tried2 = null;
        if (client.CloseAfter)
        {
            client.State = ClientConnection.Phase.Closing;
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

        client.State = ClientConnection.Phase.ReadingHead;
        Refresh(client);
        ProcessInput(client);
    }

    private void Log(ClientConnection client)
    {
        var pool = client.Pool!;
        var duration = Stopwatch.GetElapsedTime(client.Started);
        var upstream = client.UpstreamHeaders != 0
            ? Stopwatch.GetElapsedTime(client.AttemptStarted, client.UpstreamHeaders).TotalMilliseconds
            : -1;
        _metrics.Record(pool, pool.App, client.Status, duration);
        if (!_accessLog.IsRecording)
        {
            // Both logs off: making the entry would only cost the cache misses of reading what it names.
            return;
        }

        _accessLog.Write(new AccessLogEntry(
            DateTime.UtcNow, client.Host, client.Request.Method, client.Path, client.Status, client.BodyBytes, duration.TotalMilliseconds,
            upstream, pool.App, client.Endpoint?.Instance, client.Attempts, client.RequestIdText, client.Error));
    }
}
