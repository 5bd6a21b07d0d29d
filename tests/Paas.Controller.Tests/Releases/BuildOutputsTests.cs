using Paas.Controller.Releases;
using Paas.Controller.State;
using Paas.Controller.Tests.State;

namespace Paas.Controller.Tests.Releases;

/// <summary>
/// `releases:output` across controllers: two controllers on one etcd (as in StandbyControllerTests), one records a
/// push's output, the other serves it (after a fail-over the standby has it), and pruning on either removes it.
/// </summary>
public sealed class BuildOutputsTests(EtcdClusterFixture etcd) : IClassFixture<EtcdClusterFixture>, IDisposable
{
    private readonly string _prefix = $"/paas-test-{Guid.NewGuid():N}/";
    private readonly List<EtcdConnection> _connections = [];

    private (IStateStore State, BuildOutputs Outputs) Controller()
    {
        var connection = new EtcdConnection(etcd.Cluster.ClientUrls, _prefix, TimeProvider.System);
        _connections.Add(connection);
        var state = new EtcdStateStore(connection, TimeProvider.System, new Random(_connections.Count));
        return (state, new BuildOutputs(state));
    }

    [Fact]
    public void OutputRecordedByTheLeader_IsServedByTheStandby_AndGoneFromBothOncePruned()
    {
        var (leader, leaderOutputs) = Controller();
        var (_, standbyOutputs) = Controller();
        leader.TryCreateApp("shop", "alice", out _);
        foreach (var version in new[] { 2, 3 })
        {
            var recorder = leaderOutputs.Begin("shop");
            recorder.Add("-----> Building shop");
            recorder.Add($"-----> Released v{version}");
            recorder.Save(version);
        }

        Assert.Equal("-----> Building shop\n-----> Released v2\n", standbyOutputs.Read("shop", 2));
        Assert.Equal(1, standbyOutputs.Prune("shop", [3]));
        Assert.Null(leaderOutputs.Read("shop", 2));
        Assert.Null(standbyOutputs.Read("shop", 2));
        Assert.Contains("Released v3", leaderOutputs.Read("shop", 3));
    }

    [Fact]
    public void OutputThatCompressesBadly_IsStoredUnderEtcdsRequestLimit_KeepingItsEnd()
    {
        var (leader, outputs) = Controller();
        leader.TryCreateApp("noisy", "alice", out _);
        var recorder = outputs.Begin("noisy");
        // Random printable text, the worst a build prints: it barely compresses, and 1.5 MB of it is printed.
        var random = new Random(24);
        var lines = Enumerable.Range(0, 15_000).Select(i => $"{i:D6} " + new string(Enumerable.Range(0, 93).Select(_ => (char)random.Next(0x21, 0x7f)).ToArray())).ToList();
        foreach (var line in lines)
            recorder.Add(line);
        recorder.Save(2);

        var stored = leader.BuildOutput("noisy", 2)!;
        var read = outputs.Read("noisy", 2)!;
        Assert.True(stored.Length <= BuildOutputs.MaxStoredBytes, $"{stored.Length} bytes stored");
        Assert.EndsWith(lines[^1] + "\n", read);
        Assert.True(read.Length <= BuildOutputs.LimitBytes, $"{read.Length} characters read");
    }

    public void Dispose()
    {
        foreach (var connection in _connections)
            connection.Dispose();
    }
}
