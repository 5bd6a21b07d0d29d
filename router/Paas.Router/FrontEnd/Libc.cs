using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Paas.Router.FrontEnd;

/// <summary>The Linux socket and epoll calls the front end's event loops make, straight from libc.</summary>
internal static unsafe partial class Libc
{
    public const uint EpollIn = 0x001, EpollOut = 0x004, EpollErr = 0x008, EpollHup = 0x010, EpollRdHup = 0x2000;
    public const int EpollCtlAdd = 1, EpollCtlDel = 2, EpollCtlMod = 3;
    public const int AfUnix = 1, AfInet = 2, AfInet6 = 10;
    public const int SockStream = 1, SockNonBlock = 0x800, SockCloExec = 0x80000;
    public const int SolSocket = 1, SoReuseAddr = 2, SoError = 4, SoReusePort = 15;
    public const int IpProtoTcp = 6, TcpNoDelay = 1, IpProtoIpv6 = 41, Ipv6V6Only = 26;
    public const int MsgNoSignal = 0x4000, ShutWrite = 1;
    public const int EIntr = 4, EAgain = 11, ENFile = 23, EMFile = 24, EInProgress = 115;

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", SetLastError = true)] public static partial int socket(int domain, int type, int protocol);
    [LibraryImport("libc", SetLastError = true)] public static partial int setsockopt(int fd, int level, int name, int* value, int length);
    [LibraryImport("libc", SetLastError = true)] public static partial int getsockopt(int fd, int level, int name, int* value, int* length);
    [LibraryImport("libc", SetLastError = true)] public static partial int bind(int fd, byte* address, int length);
    [LibraryImport("libc", SetLastError = true)] public static partial int listen(int fd, int backlog);
    [LibraryImport("libc", SetLastError = true)] public static partial int accept4(int fd, byte* address, int* length, int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial int connect(int fd, byte* address, int length);
    [LibraryImport("libc", SetLastError = true)] public static partial int epoll_create1(int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial int epoll_ctl(int epoll, int operation, int fd, EpollEvent* ev);
    [LibraryImport("libc", SetLastError = true)] public static partial int epoll_wait(int epoll, EpollEvent* events, int max, int timeout);
    [LibraryImport("libc", SetLastError = true)] public static partial nint recv(int fd, byte* buffer, nint length, int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial nint send(int fd, byte* buffer, nint length, int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial int shutdown(int fd, int how);
    [LibraryImport("libc", SetLastError = true)] public static partial int close(int fd);

    public static int Errno => Marshal.GetLastPInvokeError();

    public static void SetOption(int fd, int level, int name, int value) => setsockopt(fd, level, name, &value, sizeof(int));

    /// <summary>The pending error of a socket whose non-blocking connect finished (0: connected).</summary>
    public static int PendingError(int fd)
    {
        int error = 0, length = sizeof(int);
        return getsockopt(fd, SolSocket, SoError, &error, &length) == 0 ? error : Errno;
    }

    /// <summary>The kernel's sockaddr for an endpoint (.NET's <see cref="SocketAddress"/> holds exactly that layout on Linux).</summary>
    public static byte[] SockAddr(EndPoint endPoint)
    {
        var address = endPoint.Serialize();
        var bytes = new byte[address.Size];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = address[i];
        }

        return bytes;
    }

    /// <summary>Reads an IPv4 or IPv6 sockaddr as the kernel filled it in; IPv4-mapped IPv6 addresses come back as IPv4.</summary>
    public static IPEndPoint? ReadSockAddr(ReadOnlySpan<byte> sockaddr)
    {
        if (sockaddr.Length < 8)
        {
            return null;
        }

        var family = sockaddr[0] | (sockaddr[1] << 8);
        var port = (sockaddr[2] << 8) | sockaddr[3];
        if (family == AfInet)
        {
            return new IPEndPoint(new IPAddress(sockaddr.Slice(4, 4)), port);
        }

        if (family == AfInet6 && sockaddr.Length >= 24)
        {
            var address = new IPAddress(sockaddr.Slice(8, 16));
            return new IPEndPoint(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, port);
        }

        return null;
    }

    public static AddressFamily FamilyOf(byte[] sockaddr) => (sockaddr[0] | (sockaddr[1] << 8)) switch
    {
        AfInet => AddressFamily.InterNetwork,
        AfInet6 => AddressFamily.InterNetworkV6,
        _ => AddressFamily.Unix,
    };
}
