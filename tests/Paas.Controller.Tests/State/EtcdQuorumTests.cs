using System.Diagnostics;
using Paas.Controller.State;
using Xunit.Abstractions;

namespace Paas.Controller.Tests.State;

/// <summary>Members of a three-member cluster killed (SIGKILL): one changes nothing, two stop writes with one clear sentence while reads go on.</summary>
public sealed class EtcdQuorumTests(ITestOutputHelper output) : IDisposable
{
    private readonly EtcdCluster _cluster = EtcdCluster.Start();
    private readonly List<EtcdConnection> _connections = [];

    private (IStateStore State, IDomainStore Domains) Open()
    {
        var connection = new EtcdConnection(_cluster.ClientUrls, "/paas/", TimeProvider.System);
        _connections.Add(connection);
        return (new EtcdStateStore(connection, TimeProvider.System, new Random(_connections.Count)), new EtcdDomainStore(connection, TimeProvider.System));
    }

    private static ReleaseRecord Release(string app, int version) =>
        new(app, version, $"paas/app-{app}:v{version}", "abc1234", "static", new Dictionary<string, string> { ["web"] = "serve" }, DateTimeOffset.UnixEpoch);

    [Fact]
    public void OneMemberOfThreeKilled_TheLeader_EverythingStillWorks()
    {
        var (store, domains) = Open();
        store.TryCreateApp("steady", "alice", out _);
        store.AddRelease(Release("steady", store.NextReleaseVersion("steady")));

        var clock = Stopwatch.StartNew();
        _cluster.Kill(_cluster.Leader());
        store.TryCreateApp("after", "alice", out _);
        output.WriteLine($"first write after the leader was killed: {clock.Elapsed.TotalSeconds:0.00} s");

        store.AddRelease(Release("steady", store.NextReleaseVersion("steady")));
        store.ReplaceConfig("steady", new Dictionary<string, string> { ["A"] = "1" });
        store.AddEvent("steady", "alice", "release", "still here");
        Assert.True(domains.TryAdd("after", "after.example.com", out _));
        Assert.Equal([2, 1], store.ListReleases("steady").Select(r => r.Version));
        Assert.Equal(["after", "steady"], Open().State.ListApps().Select(a => a.Name));
        Assert.Equal("1", store.Config("steady")["A"]);
        store.Ping();
    }

    [Fact]
    public void TwoMembersOfThreeKilled_WritesAreRefusedWithOneSentence_ReadsGoOn()
    {
        var (store, _) = Open();
        store.TryCreateApp("kept", "alice", out _);
        store.AddRelease(Release("kept", store.NextReleaseVersion("kept")));
        var survivor = _cluster.Leader();

        foreach (var member in Enumerable.Range(0, 3).Where(m => m != survivor))
            _cluster.Kill(member);

        var clock = Stopwatch.StartNew();
        var refused = Assert.Throws<StateStoreUnavailableException>(() => store.TryCreateApp("new", "alice", out _));
        output.WriteLine($"write refused after {clock.Elapsed.TotalSeconds:0.00} s: {refused.Message}");
        Assert.Equal("The state store has no quorum: 1 of 3 members reachable; writes are refused until a majority is back.", refused.Message);
        Assert.Throws<StateStoreUnavailableException>(() => store.AddEvent("kept", "alice", "release", "lost"));
        Assert.Throws<StateStoreUnavailableException>(store.Ping);

        clock.Restart();
        Assert.Equal("alice", store.FindApp("kept")!.Owner);
        Assert.Equal(1, store.CurrentRelease("kept")!.Version);
        Assert.Equal(["kept"], Open().State.ListApps().Select(a => a.Name));
        output.WriteLine($"three reads without quorum: {clock.Elapsed.TotalSeconds:0.00} s");
    }

    public void Dispose()
    {
        foreach (var connection in _connections)
            connection.Dispose();
        _cluster.Dispose();
    }
}
