using System.Net.Sockets;
using System.Text;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// An instance that answers each request properly, keep-alive and all, then closes the connection without
/// saying so, as an app server does when its keep-alive timer fires between two requests (Node's 5 s).
/// A proxy that pools connections picks up the dead one for its next request.
/// </summary>
internal sealed class DroppingBackend : RawTcpBackend
{
    protected override async Task ServeAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var buffer = new byte[4096];
        while (!head.ToString().Contains("\r\n\r\n"))
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
            {
                return;
            }

            head.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\ndropped"u8.ToArray());
        await stream.FlushAsync();
        // Give the response time to be read before the close, as a keep-alive timeout would.
        await Task.Delay(50);
    }
}
