using Paas.Controller.Leadership;
using Paas.Controller.State;

namespace Paas.Controller.Tests.Leadership;

/// <summary>The election round by round, on an in-memory store whose leases expire by a test clock.</summary>
public sealed class LeaderElectionTests
{
    private readonly ManualTime _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
    private readonly FakeElectionStore _store;
    private readonly LeaderElection _a;
    private readonly LeaderElection _b;

    public LeaderElectionTests()
    {
        _store = new FakeElectionStore(_time);
        _a = new LeaderElection(_store, new ControllerIdentity("a", "http://10.0.0.1:8090"), _time);
        _b = new LeaderElection(_store, new ControllerIdentity("b", "http://10.0.0.2:8090"), _time);
    }

    [Fact]
    public void Tick_FirstToCampaign_LeadsAndTheOtherStandsBy()
    {
        Assert.Equal(ElectionOutcome.Elected, _a.Tick());
        Assert.Equal(ElectionOutcome.Unchanged, _b.Tick());
        Assert.True(_a.IsLeader);
        Assert.False(_b.IsLeader);
        Assert.Equal("http://10.0.0.1:8090", _b.Leader?.Address);
        Assert.Equal(ElectionOutcome.Unchanged, _a.Tick());
    }

    [Fact]
    public void Tick_LeaderStopsRenewing_StandbyTakesOverWhenTheLeaseRunsOut()
    {
        _a.Tick();
        _b.Tick();
        // a dies (SIGKILL): it renews no more. b keeps campaigning every second.
        var waited = TimeSpan.Zero;
        while (!_b.IsLeader && waited < TimeSpan.FromSeconds(30))
        {
            _time.Advance(LeaderElection.Interval);
            waited += LeaderElection.Interval;
            _b.Tick();
        }
        Assert.True(_b.IsLeader);
        Assert.InRange(waited, LeaderElection.LeaseTtl, LeaderElection.LeaseTtl + LeaderElection.Interval);
        Assert.True(waited < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void MustStepDown_LeaderCutOffFromTheStore_BeforeItsLeaseCanExpire()
    {
        _a.Tick();
        _store.Reachable = false;
        _time.Advance(LeaderElection.StepDownAfter - TimeSpan.FromMilliseconds(100));
        Assert.Equal(ElectionOutcome.Unchanged, _a.Tick());
        Assert.False(_a.MustStepDown());
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(_a.MustStepDown());
        Assert.Equal(ElectionOutcome.Lost, _a.Tick());
        Assert.False(_a.IsLeader);
        // The store itself lets the lease go only later: no moment with two leaders.
        Assert.True(LeaderElection.StepDownAfter < LeaderElection.LeaseTtl);
    }

    [Fact]
    public void Tick_LeaseExpiredWhileLeaderWasAway_LosesAndStaysLost()
    {
        _a.Tick();
        _time.Advance(LeaderElection.LeaseTtl + TimeSpan.FromSeconds(1));
        Assert.Equal(ElectionOutcome.Lost, _a.Tick());
        Assert.Equal(ElectionOutcome.Unchanged, _a.Tick());
        Assert.False(_a.IsLeader);
        Assert.NotNull(_a.LostBecause);
    }

    [Fact]
    public void Tick_StandbyCutOffFromTheStore_KeepsTheLastLeaderItSaw()
    {
        _a.Tick();
        _b.Tick();
        _store.Reachable = false;
        Assert.Equal(ElectionOutcome.Unchanged, _b.Tick());
        Assert.Equal("a", _b.Leader?.Id);
    }

    [Fact]
    public void Resign_GivesTheKeyBack_StandbyLeadsAtItsNextRound()
    {
        _a.Tick();
        _b.Tick();
        _a.Resign();
        _time.Advance(LeaderElection.Interval);
        Assert.Equal(ElectionOutcome.Elected, _b.Tick());
    }

    [Fact]
    public void Tick_BothRegister_EachSeesTheOtherAsMember()
    {
        _a.Tick();
        _b.Tick();
        Assert.Equal(["a", "b"], _store.Members().Select(m => m.Id).Order());
    }

    /// <summary>Leases with a TTL counted on the test clock, as etcd counts them on its own.</summary>
    private sealed class FakeElectionStore(TimeProvider time) : IElectionStore
    {
        private readonly Dictionary<long, DateTimeOffset> _expires = [];
        private readonly Dictionary<long, TimeSpan> _ttls = [];
        private readonly Dictionary<string, (ControllerIdentity Who, long Lease)> _members = [];
        private (ControllerIdentity Who, long Lease)? _leader;
        private long _next = 1;

        public bool Reachable { get; set; } = true;

        private void Expire()
        {
            Check();
            foreach (var (lease, at) in _expires.ToList())
            {
                if (time.GetUtcNow() >= at)
                    Drop(lease);
            }
        }

        private void Drop(long lease)
        {
            _expires.Remove(lease);
            if (_leader?.Lease == lease)
                _leader = null;
            foreach (var (id, member) in _members.ToList())
            {
                if (member.Lease == lease)
                    _members.Remove(id);
            }
        }

        private void Check()
        {
            if (!Reachable)
                throw new StateStoreUnavailableException("The state store has no quorum.");
        }

        public long GrantLease(TimeSpan ttl)
        {
            Expire();
            var id = _next++;
            _ttls[id] = ttl;
            _expires[id] = time.GetUtcNow() + ttl;
            return id;
        }

        public bool KeepAlive(long lease)
        {
            Expire();
            if (!_expires.ContainsKey(lease))
                return false;
            _expires[lease] = time.GetUtcNow() + _ttls[lease];
            return true;
        }

        public void RevokeLease(long lease)
        {
            Check();
            Drop(lease);
        }

        public ControllerIdentity? Campaign(ControllerIdentity me, long lease)
        {
            Expire();
            _leader ??= (me, lease);
            return _leader.Value.Who;
        }

        public void Register(ControllerIdentity me, long lease)
        {
            Expire();
            _members[me.Id] = (me, lease);
        }

        public IReadOnlyList<ControllerIdentity> Members()
        {
            Expire();
            return _members.Values.Select(m => m.Who).ToList();
        }
    }
}
