using System.Net;
using System.Net.Sockets;

namespace Paas.Testing;

/// <summary>
/// Ports for processes a test starts (routers, controllers, cells, Redis, registries, etcd members), shared by every
/// test project.
/// </summary>
/// <remarks>
/// Asking the kernel for port 0 and handing that number to a child process is racy: the port comes from the
/// ephemeral range (32768–60999), which every outgoing connection on the machine also draws from, and the test
/// assemblies run in parallel. One full run lost its router this way ("address already in use" on a port probed a
/// moment before). So ports come from below the ephemeral range, where the kernel never picks one on its own, and each
/// is claimed across processes by creating a file named after it (create-new is atomic); a claim older than a day is
/// stale and may be taken again.
/// </remarks>
public static class TestPorts
{
    private const int First = 20000;
    private const int Last = 32000;
    private static readonly string ClaimDirectory = Path.Combine(Path.GetTempPath(), "paas-test-ports");
    private static readonly TimeSpan StaleAfter = TimeSpan.FromDays(1);

    public static int Next()
    {
        Directory.CreateDirectory(ClaimDirectory);
        for (var attempt = 0; attempt < 2000; attempt++)
        {
            var port = Random.Shared.Next(First, Last);
            if (!TryClaim(port))
                continue;
            if (CanBind(port))
                return port;
        }
        throw new InvalidOperationException($"No free port between {First} and {Last} after 2000 tries; remove {ClaimDirectory} if it is full of old claims.");
    }

    private static bool TryClaim(int port)
    {
        var claim = Path.Combine(ClaimDirectory, port.ToString());
        try
        {
            if (File.Exists(claim) && DateTime.UtcNow - File.GetLastWriteTimeUtc(claim) > StaleAfter)
                File.Delete(claim);
            using var _ = new FileStream(claim, FileMode.CreateNew, FileAccess.Write);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Any, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
