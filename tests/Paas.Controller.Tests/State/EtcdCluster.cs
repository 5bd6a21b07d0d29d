using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using dotnet_etcd;
using Etcdserverpb;

namespace Paas.Controller.Tests.State;

/// <summary>
/// A real etcd cluster on loopback for tests: <paramref name="members"/> `etcd` processes (Debian's etcd-server,
/// installed by deploy/setup.sh), each with its own data directory under one temporary directory and its own
/// free client and peer ports. Members can be killed (SIGKILL) to take quorum away. A missing binary fails
/// the test: these tests never skip.
/// </summary>
public sealed class EtcdCluster : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("paas-etcd-").FullName;
    private readonly List<Process> _processes = [];
    private readonly List<string> _logs = [];

    private EtcdCluster(int members)
    {
        var binary = FindBinary();
        var clientPorts = Enumerable.Range(0, members).Select(_ => FreePort()).ToList();
        var peerPorts = Enumerable.Range(0, members).Select(_ => FreePort()).ToList();
        ClientUrls = clientPorts.Select(p => $"http://127.0.0.1:{p}").ToList();
        var initialCluster = string.Join(',', peerPorts.Select((p, i) => $"m{i}=http://127.0.0.1:{p}"));
        for (var i = 0; i < members; i++)
        {
            var log = Path.Combine(_dir, $"m{i}.log");
            _logs.Add(log);
            var start = new ProcessStartInfo(binary)
            {
                ArgumentList =
                {
                    "--name", $"m{i}", "--data-dir", Path.Combine(_dir, $"m{i}"),
                    "--listen-client-urls", ClientUrls[i], "--advertise-client-urls", ClientUrls[i],
                    "--listen-peer-urls", $"http://127.0.0.1:{peerPorts[i]}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPorts[i]}",
                    "--initial-cluster", initialCluster, "--initial-cluster-token", Path.GetFileName(_dir), "--initial-cluster-state", "new",
                    "--logger", "zap", "--log-outputs", log,
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _processes.Add(process);
        }
    }

    public IReadOnlyList<string> ClientUrls { get; }

    /// <summary>Starts the cluster and waits until every member answers and a leader is elected.</summary>
    public static EtcdCluster Start(int members = 3)
    {
        var cluster = new EtcdCluster(members);
        try
        {
            cluster.WaitUntilHealthy(TimeSpan.FromSeconds(60));
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    private static string FindBinary()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':').Append("/usr/bin"))
        {
            var candidate = Path.Combine(dir, "etcd");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException("etcd is not installed: install Debian's etcd-server (deploy/setup.sh does) to run the etcd state-store tests.");
    }

    private static int FreePort() => Paas.Testing.TestPorts.Next();

    private void WaitUntilHealthy(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var leaders = LiveMembers().Select(StatusOrNull).ToList();
            if (leaders.Count == ClientUrls.Count && leaders.All(s => s is { Leader: not 0 }))
                return;
            if (_processes.FirstOrDefault(p => p.HasExited) is { } exited)
                throw new InvalidOperationException($"etcd member exited with code {exited.ExitCode} at start: {Tail()}");
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"The etcd cluster did not elect a leader within {timeout.TotalSeconds} s: {Tail()}");
            Thread.Sleep(100);
        }
    }

    private IEnumerable<int> LiveMembers() => Enumerable.Range(0, _processes.Count).Where(i => !_processes[i].HasExited);

    private StatusResponse? StatusOrNull(int member)
    {
        using var client = new EtcdClient(ClientUrls[member]);
        try
        {
            return client.Status(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(1));
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or OperationCanceledException or HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>The member that is the Raft leader now.</summary>
    public int Leader()
    {
        // On a loaded machine a status call can miss its second, or an election be under way: ask again for a while.
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            foreach (var i in LiveMembers())
            {
                if (StatusOrNull(i) is { } status && status.Leader == status.Header.MemberId)
                    return i;
            }
            Thread.Sleep(100);
        }
        throw new InvalidOperationException($"No etcd member has been the leader for 15 s: {Tail()}");
    }

    /// <summary>SIGKILL, as a crashed machine would stop.</summary>
    public void Kill(int member)
    {
        _processes[member].Kill();
        _processes[member].WaitForExit();
    }

    private string Tail() => string.Join(" | ", _logs.Where(File.Exists).Select(l => string.Join(" ", File.ReadLines(l).TakeLast(3))));

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }
            process.Dispose();
        }
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>One cluster shared by the contract tests of a class; each test works under a prefix of its own.</summary>
public sealed class EtcdClusterFixture : IDisposable
{
    public EtcdCluster Cluster { get; } = EtcdCluster.Start();

    public void Dispose() => Cluster.Dispose();
}
