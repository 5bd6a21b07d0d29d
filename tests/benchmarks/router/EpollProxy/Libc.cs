using System.Runtime.InteropServices;

/// <summary>The handful of Linux socket and epoll calls the event loop needs.</summary>
internal static unsafe partial class Libc
{
    public const int EpollIn = 1, EpollCtlAdd = 1, EpollCtlDel = 2;
    public const int AfInet = 2, SockStream = 1, SockNonBlock = 0x800, SolSocket = 1, SoReuseAddr = 2, SoReusePort = 15;
    public const int IpProtoTcp = 6, TcpNoDelay = 1, FSetFl = 4, ONonBlock = 0x800, EAgain = 11;
    public const uint Loopback = 0x0100007F;

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct SockAddrIn
    {
        public ushort Family;
        public ushort Port;
        public uint Address;
        public ulong Zero;

        public static SockAddrIn Loopback(int port) =>
            new() { Family = AfInet, Port = (ushort)((port >> 8) | ((port & 0xff) << 8)), Address = Libc.Loopback };
    }

    [LibraryImport("libc", SetLastError = true)] public static partial int socket(int domain, int type, int protocol);
    [LibraryImport("libc", SetLastError = true)] public static partial int setsockopt(int fd, int level, int name, int* value, int length);
    [LibraryImport("libc", SetLastError = true)] public static partial int bind(int fd, SockAddrIn* address, int length);
    [LibraryImport("libc", SetLastError = true)] public static partial int listen(int fd, int backlog);
    [LibraryImport("libc", SetLastError = true)] public static partial int accept4(int fd, void* address, void* length, int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial int connect(int fd, SockAddrIn* address, int length);
    [LibraryImport("libc", SetLastError = true)] public static partial int fcntl(int fd, int command, int argument);
    [LibraryImport("libc", SetLastError = true)] public static partial int epoll_create1(int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial int epoll_ctl(int epoll, int operation, int fd, EpollEvent* ev);
    [LibraryImport("libc", SetLastError = true)] public static partial int epoll_wait(int epoll, EpollEvent* events, int max, int timeout);
    [LibraryImport("libc", SetLastError = true)] public static partial nint recv(int fd, byte* buffer, nint length, int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial nint send(int fd, byte* buffer, nint length, int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial int close(int fd);

    public static void NoDelay(int fd)
    {
        var one = 1;
        setsockopt(fd, IpProtoTcp, TcpNoDelay, &one, sizeof(int));
    }
}
