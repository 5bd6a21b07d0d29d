// The least a reverse proxy on Kestrel and .NET sockets can do, as a benchmark peer for the router: no
// routing, no header handling, no timeouts, no error pages, one fixed request to one backend over pooled
// keep-alive connections, the body copied back. Whatever this costs per request is the runtime's floor
// (Kestrel, the socket engine, async machinery); the router's cost above it is the router's own work.
// Same socket settings as the router (router/Paas.Router/Program.cs).
//   dotnet MinimalProxy.dll <listen port> <backend port> <host>
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
var listenPort = int.Parse(args[0]);
var backend = new IPEndPoint(IPAddress.Loopback, int.Parse(args[1]));
var requestHead = Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {args[2]}\r\n\r\n");
var idle = new ConcurrentStack<(Socket Socket, byte[] Buffer)>();

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseSockets(sockets =>
{
    sockets.UnsafePreferInlineScheduling = true;
    sockets.WaitForDataBeforeAllocatingBuffer = false;
});
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Listen(IPAddress.Loopback, listenPort);
});
var app = builder.Build();
app.Run(async context =>
{
    if (!idle.TryPop(out var connection))
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(backend);
        connection = (socket, new byte[16 * 1024]);
    }

    var (backendSocket, buffer) = connection;
    try
    {
        await backendSocket.SendAsync(requestHead, SocketFlags.None);
        int filled = 0, headEnd;
        while ((headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            filled += await ReceiveSomeAsync(backendSocket, buffer.AsMemory(filled));
        }

        var length = ContentLength(buffer.AsSpan(0, headEnd));
        var bodyStart = headEnd + 4;
        while (filled < bodyStart + length)
        {
            filled += await ReceiveSomeAsync(backendSocket, buffer.AsMemory(filled));
        }

        context.Response.ContentLength = length;
        context.Response.ContentType = "text/plain";
        await context.Response.Body.WriteAsync(buffer.AsMemory(bodyStart, length));
        idle.Push(connection);
    }
    catch (Exception ex) when (ex is SocketException or IOException or FormatException)
    {
        backendSocket.Dispose();
        context.Response.StatusCode = StatusCodes.Status502BadGateway;
    }
});
app.Run();

static async ValueTask<int> ReceiveSomeAsync(Socket socket, Memory<byte> into)
{
    var read = await socket.ReceiveAsync(into, SocketFlags.None);
    return read > 0 ? read : throw new IOException("backend closed the connection");
}

static int ContentLength(ReadOnlySpan<byte> head)
{
    var at = head.IndexOf("\r\nContent-Length: "u8);
    if (at < 0 || !Utf8Parser.TryParse(head[(at + 18)..], out int length, out _))
    {
        throw new FormatException("backend response without a Content-Length");
    }

    return length;
}
