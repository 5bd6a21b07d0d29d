using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Paas.Router.Health;
using Paas.Router.Observability;
using Paas.Router.Table;
using static Paas.Router.FrontEnd.Libc;

namespace Paas.Router.FrontEnd;

/// <summary>
/// The public port when the router runs its own front end: one <see cref="FrontEndLoop"/> per core, each
/// on its own thread with its own listening socket (SO_REUSEPORT lets the kernel spread connections
/// across them), and a private Unix socket where Kestrel takes the connections the loops hand over.
/// </summary>
public sealed unsafe class FrontEndServer : IDisposable
{
    private readonly RouterSettings _settings;
    private readonly List<int> _listeners = [];
    private readonly List<FrontEndLoop> _loops = [];
    private readonly List<Thread> _threads = [];
    private readonly DirectoryInfo _handoffDirectory;

    /// <summary>Binds the public port; throws <see cref="IOException"/> when it cannot.</summary>
    public FrontEndServer(RouterSettings settings)
    {
        _settings = settings;
        // A directory only this user can enter: the socket accepts PROXY lines, which must come from us alone.
        _handoffDirectory = Directory.CreateTempSubdirectory("paas-router-");
        HandoffPath = Path.Combine(_handoffDirectory.FullName, "kestrel.sock");
        var local = new IPEndPoint(settings.Bind, settings.PublicPort);
        try
        {
            // SO_REUSEPORT would let a second router (same user) share the port silently and take half its
            // connections; a plain bind first fails, as Kestrel's would, when anyone holds the port.
            close(Listen(local, reusePort: false));
            for (var i = 0; i < settings.FrontEndThreads; i++)
            {
                _listeners.Add(Listen(local, reusePort: true));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Where Kestrel must listen for handed-over connections.</summary>
    public string HandoffPath { get; }

    /// <summary>Starts the loops; call once Kestrel listens on <see cref="HandoffPath"/>.</summary>
    public void Start(RouteTableStore store, PassiveHealth health, RouterMetrics metrics, AccessLog accessLog, ILogger<FrontEndServer> logger)
    {
        var handoffAddress = SockAddr(new UnixDomainSocketEndPoint(HandoffPath));
        var local = new IPEndPoint(_settings.Bind, _settings.PublicPort);
        foreach (var listener in _listeners)
        {
            var loop = new FrontEndLoop(listener, handoffAddress, local, _settings, store, health, metrics, accessLog, logger);
            _loops.Add(loop);
            var thread = new Thread(loop.Run) { IsBackground = true, Name = "paas-front-end" };
            _threads.Add(thread);
            thread.Start();
        }
    }

    public void Dispose()
    {
        foreach (var loop in _loops)
        {
            loop.Stop();
        }

        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(2));
        }

        // Loops close their own listener; these never got a loop.
        foreach (var listener in _listeners.Skip(_loops.Count))
        {
            close(listener);
        }

        try
        {
            _handoffDirectory.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// A listening socket on the public address. "Any" listens dual-stack (IPv4 clients appear as mapped
    /// IPv6 addresses and are mapped back), as Kestrel's ListenAnyIP does.
    /// </summary>
    private static int Listen(IPEndPoint local, bool reusePort)
    {
        var endPoint = local;
        if (local.Address.Equals(IPAddress.Any) && Socket.OSSupportsIPv6)
        {
            endPoint = new IPEndPoint(IPAddress.IPv6Any, local.Port);
        }

        var address = SockAddr(endPoint);
        var fd = socket(address[0] == AfInet6 ? AfInet6 : AfInet, SockStream | SockNonBlock | SockCloExec, 0);
        if (fd < 0)
        {
            throw new IOException($"socket() failed (errno {Errno})");
        }

        SetOption(fd, SolSocket, SoReuseAddr, 1);
        SetOption(fd, SolSocket, SoReusePort, reusePort ? 1 : 0);
        if (address[0] == AfInet6)
        {
            SetOption(fd, IpProtoIpv6, Ipv6V6Only, endPoint.Address.Equals(IPAddress.IPv6Any) ? 0 : 1);
        }

        int result;
        fixed (byte* sockaddr = address)
        {
            result = bind(fd, sockaddr, address.Length);
        }

        if (result != 0 || listen(fd, 4096) != 0)
        {
            var errno = Errno;
            close(fd);
            throw new IOException($"Failed to bind to address http://{local}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        return fd;
    }
}
