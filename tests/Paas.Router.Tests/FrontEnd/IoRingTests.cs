using System.Net;
using System.Net.Sockets;
using System.Text;
using Paas.Router.FrontEnd;

namespace Paas.Router.Tests.FrontEnd;

/// <summary>
/// The front end's io_uring on real loopback sockets: several sends or receives in one submission, each
/// result in hand when it returns, with what send/recv would have said (bytes, EAGAIN, EPIPE).
/// </summary>
public sealed unsafe class IoRingTests : IDisposable
{
    private const int EPipe = 32;
    private readonly List<Socket> _sockets = [];
    private IoRing? _ringOfThisThread;

    // Made by the thread that uses it (a ring takes submissions from its creator only), so not in the constructor.
    private IoRing Ring => _ringOfThisThread ??=
        // This platform's kernel (Debian 12 and later) has io_uring; without it the router falls back, but this test has nothing to test.
        IoRing.TryCreate(8, out var unavailable) ?? throw new InvalidOperationException($"io_uring unavailable: {unavailable}");

    public void Dispose()
    {
        _ringOfThisThread?.Dispose();
        _sockets.ForEach(socket => socket.Dispose());
    }

    [Fact]
    public void SendsAndReceivesInOneSubmissionEachComeBackWithTheirOwnResults()
    {
        var (a1, b1) = Pair();
        var (a2, b2) = Pair();
        var one = "first connection"u8.ToArray();
        var two = "second"u8.ToArray();
        fixed (byte* p1 = one, p2 = two)
        {
            Ring.QueueSend(Fd(a1), p1, one.Length, 10);
            Ring.QueueSend(Fd(a2), p2, two.Length, 20);
            Assert.Equal(2u, Ring.Queued);
            Ring.SubmitAndWait();
        }

        Assert.Equal(0u, Ring.Queued);
        Assert.Equal(new Dictionary<ulong, int> { [10] = one.Length, [20] = two.Length }, TakeAll());

        var into1 = new byte[64];
        var into2 = new byte[64];
        var into3 = new byte[64];
        var (idle, _) = Pair();
        WaitReadable(b1, b2);
        fixed (byte* r1 = into1, r2 = into2, r3 = into3)
        {
            Ring.QueueRecv(Fd(b1), r1, into1.Length, 1);
            Ring.QueueRecv(Fd(b2), r2, into2.Length, 2);
            Ring.QueueRecv(Fd(idle), r3, into3.Length, 3);
            Ring.SubmitAndWait();
        }

        var results = TakeAll();
        Assert.Equal(one.Length, results[1]);
        Assert.Equal(two.Length, results[2]);
        // Nothing there: the same answer a non-blocking recv gives, not a wait.
        Assert.Equal(-11, results[3]);
        Assert.Equal("first connection", Encoding.ASCII.GetString(into1, 0, results[1]));
        Assert.Equal("second", Encoding.ASCII.GetString(into2, 0, results[2]));
    }

    [Fact]
    public void ASendOnAClosedConnectionFailsWithItsErrnoAndTheOthersInTheSubmissionStillGo()
    {
        var (broken, _) = Pair();
        broken.Shutdown(SocketShutdown.Send);
        var (fine, peer) = Pair();
        var bytes = "still here"u8.ToArray();
        fixed (byte* p = bytes)
        {
            Ring.QueueSend(Fd(broken), p, bytes.Length, 1);
            Ring.QueueSend(Fd(fine), p, bytes.Length, 2);
            Ring.SubmitAndWait();
        }

        var results = TakeAll();
        Assert.Equal(-EPipe, results[1]);
        Assert.Equal(bytes.Length, results[2]);
        var received = new byte[32];
        Assert.Equal(bytes.Length, peer.Receive(received));
    }

    [Fact]
    public void ASendTheKernelCannotTakeWholeSaysHowMuchItTookInsteadOfWaiting()
    {
        var (sender, _) = Pair();
        sender.SendBufferSize = 4096;
        var big = new byte[8 * 1024 * 1024];
        fixed (byte* p = big)
        {
            Ring.QueueSend(Fd(sender), p, big.Length, 7);
            Ring.SubmitAndWait();
        }

        var taken = TakeAll()[7];
        Assert.InRange(taken, 1, big.Length - 1);

        // Once the peer's buffers are full too, a send is refused at once (EAGAIN), as a non-blocking send
        // would be, rather than left waiting: the submission returns, with nobody reading the other end.
        var refused = false;
        for (var attempt = 0; attempt < 200 && !refused; attempt++)
        {
            fixed (byte* p = big)
            {
                Ring.QueueSend(Fd(sender), p, big.Length, 8);
                Ring.SubmitAndWait();
            }

            var result = TakeAll()[8];
            Assert.True(result > 0 || result == -11, $"unexpected result {result}");
            refused = result == -11;
        }

        Assert.True(refused);
    }

    private Dictionary<ulong, int> TakeAll()
    {
        var results = new Dictionary<ulong, int>();
        while (Ring.TryTake(out var tag, out var result))
        {
            results.Add(tag, result);
        }

        return results;
    }

    /// <summary>A connected pair of non-blocking loopback TCP sockets.</summary>
    private (Socket Client, Socket Server) Pair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        var server = listener.Accept();
        client.Blocking = false;
        server.Blocking = false;
        _sockets.Add(client);
        _sockets.Add(server);
        return (client, server);
    }

    private static void WaitReadable(params Socket[] sockets)
    {
        foreach (var socket in sockets)
        {
            Assert.True(socket.Poll(TimeSpan.FromSeconds(5), SelectMode.SelectRead));
        }
    }

    private static int Fd(Socket socket) => (int)socket.Handle;
}
