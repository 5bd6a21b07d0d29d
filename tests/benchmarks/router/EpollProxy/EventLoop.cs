using System.Buffers.Text;
using System.Runtime.InteropServices;
using static Libc;

/// <summary>One worker: its own listener (SO_REUSEPORT spreads connections), epoll set and backend pool.</summary>
internal sealed unsafe class EventLoop
{
    private readonly int _epoll;
    private readonly int _listener;
    private readonly int _backendPort;
    private readonly byte[] _requestHead;
    private readonly Dictionary<int, Connection> _connections = [];
    private readonly Stack<Connection> _idleBackends = new();

    public EventLoop(int listenPort, int backendPort, byte[] requestHead)
    {
        _backendPort = backendPort;
        _requestHead = requestHead;
        _epoll = epoll_create1(0);
        _listener = socket(AfInet, SockStream | SockNonBlock, 0);
        var one = 1;
        setsockopt(_listener, SolSocket, SoReuseAddr, &one, sizeof(int));
        setsockopt(_listener, SolSocket, SoReusePort, &one, sizeof(int));
        var address = SockAddrIn.Loopback(listenPort);
        if (bind(_listener, &address, sizeof(SockAddrIn)) != 0 || listen(_listener, 512) != 0)
        {
            throw new IOException($"cannot listen on 127.0.0.1:{listenPort} (errno {Marshal.GetLastPInvokeError()})");
        }

        Watch(_listener);
    }

    public void Run()
    {
        var events = new EpollEvent[256];
        fixed (EpollEvent* ready = events)
        {
            while (true)
            {
                var count = epoll_wait(_epoll, ready, events.Length, -1);
                for (var i = 0; i < count; i++)
                {
                    var fd = (int)ready[i].Data;
                    if (fd == _listener)
                    {
                        AcceptAll();
                    }
                    else if (_connections.TryGetValue(fd, out var connection))
                    {
                        if (connection.IsBackend)
                        {
                            OnBackendReadable(connection);
                        }
                        else
                        {
                            OnClientReadable(connection);
                        }
                    }
                }
            }
        }
    }

    private void Watch(int fd)
    {
        // Level-triggered: a socket left with unread bytes is reported again, so nothing can be forgotten.
        var ev = new EpollEvent { Events = EpollIn, Data = (ulong)fd };
        epoll_ctl(_epoll, EpollCtlAdd, fd, &ev);
    }

    private void AcceptAll()
    {
        int fd;
        while ((fd = accept4(_listener, null, null, SockNonBlock)) >= 0)
        {
            NoDelay(fd);
            _connections[fd] = new Connection(fd, isBackend: false);
            Watch(fd);
        }
    }

    private void OnClientReadable(Connection client)
    {
        if (!client.Receive())
        {
            Close(client);
            return;
        }

        if (client.Peer is null)
        {
            StartNextRequest(client);
        }
    }

    private void StartNextRequest(Connection client)
    {
        var headEnd = client.Received.IndexOf("\r\n\r\n"u8);
        if (headEnd < 0)
        {
            return;
        }

        client.Consume(headEnd + 4);
        var backend = RentBackend();
        backend.Peer = client;
        client.Peer = backend;
        fixed (byte* head = _requestHead)
        {
            send(backend.Fd, head, _requestHead.Length, 0);
        }
    }

    private Connection RentBackend()
    {
        while (_idleBackends.TryPop(out var idle))
        {
            // The backend may have closed an idle connection meanwhile; that one was closed here too.
            if (!idle.IsClosed)
            {
                return idle;
            }
        }

        return ConnectBackend();
    }

    private Connection ConnectBackend()
    {
        // Blocking connect on loopback (instant), then non-blocking like every other socket here.
        var fd = socket(AfInet, SockStream, 0);
        NoDelay(fd);
        var address = SockAddrIn.Loopback(_backendPort);
        if (connect(fd, &address, sizeof(SockAddrIn)) != 0)
        {
            throw new IOException($"cannot connect to the backend (errno {Marshal.GetLastPInvokeError()})");
        }

        fcntl(fd, FSetFl, ONonBlock);
        var backend = new Connection(fd, isBackend: true);
        _connections[fd] = backend;
        Watch(fd);
        return backend;
    }

    private void OnBackendReadable(Connection backend)
    {
        if (!backend.Receive() || backend.Peer is not { } client)
        {
            Close(backend);
            return;
        }

        var response = backend.Received;
        var headEnd = response.IndexOf("\r\n\r\n"u8);
        if (headEnd < 0)
        {
            return;
        }

        var lengthAt = response[..headEnd].IndexOf("\r\nContent-Length: "u8);
        if (lengthAt < 0 || !Utf8Parser.TryParse(response[(lengthAt + 18)..], out int length, out _))
        {
            Close(backend);
            return;
        }

        var bodyStart = headEnd + 4;
        if (response.Length < bodyStart + length)
        {
            return;
        }

        Span<byte> reply = stackalloc byte[256 + length];
        var written = 0;
        Append(reply, ref written, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "u8);
        Utf8Formatter.TryFormat(length, reply[written..], out var digits);
        written += digits;
        Append(reply, ref written, "\r\n\r\n"u8);
        Append(reply, ref written, response.Slice(bodyStart, length));
        fixed (byte* bytes = reply)
        {
            send(client.Fd, bytes, written, 0);
        }

        backend.Consume(bodyStart + length);
        backend.Peer = null;
        client.Peer = null;
        _idleBackends.Push(backend);
        StartNextRequest(client);
    }

    private static void Append(Span<byte> into, ref int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(into[at..]);
        at += bytes.Length;
    }

    private void Close(Connection connection)
    {
        epoll_ctl(_epoll, EpollCtlDel, connection.Fd, null);
        close(connection.Fd);
        connection.IsClosed = true;
        _connections.Remove(connection.Fd);
        if (connection.Peer is { } peer)
        {
            peer.Peer = null;
            if (peer.IsBackend)
            {
                // Its response would arrive for nobody; a fresh connection is cheaper than draining it.
                Close(peer);
            }
        }
    }

    private sealed class Connection(int fd, bool isBackend)
    {
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _filled;

        public int Fd { get; } = fd;

        public bool IsBackend { get; } = isBackend;

        public bool IsClosed { get; set; }

        /// <summary>The other end of the request in flight, if any.</summary>
        public Connection? Peer { get; set; }

        public ReadOnlySpan<byte> Received => _buffer.AsSpan(0, _filled);

        /// <summary>False when the peer closed, the socket failed, or the buffer is full with no complete head in it.</summary>
        public bool Receive()
        {
            if (_filled == _buffer.Length)
            {
                return false;
            }

            nint read;
            fixed (byte* start = _buffer)
            {
                read = recv(Fd, start + _filled, _buffer.Length - _filled, 0);
            }

            if (read > 0)
            {
                _filled += (int)read;
                return true;
            }

            return read < 0 && Marshal.GetLastPInvokeError() == EAgain;
        }

        public void Consume(int count)
        {
            Buffer.BlockCopy(_buffer, count, _buffer, 0, _filled - count);
            _filled -= count;
        }
    }
}
