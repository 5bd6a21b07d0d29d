using Paas.Controller.State;

namespace Paas.Controller.Leadership;

/// <summary>What one round of the election changed for this controller.</summary>
public enum ElectionOutcome
{
    Unchanged,
    Elected,
    Lost,
}

/// <summary>
/// The election, one round at a time (<see cref="Tick"/>, about every second): hold a lease of
/// <see cref="LeaseTtl"/>, renew it, and take the leader key whenever it is free. The key is written with the
/// lease, so a leader that dies (SIGKILL, a lost host) loses it when the lease runs out, at most
/// <see cref="LeaseTtl"/> after its last renewal; a standby's next round takes it then.
/// Fencing: a leader that has not renewed for <see cref="StepDownAfter"/> steps down by itself, before the
/// lease can have expired in the store (the store counts from when it received the renewal, which is after
/// the leader sent it), so two controllers never both believe they lead.
/// </summary>
public sealed class LeaderElection(IElectionStore store, ControllerIdentity self, TimeProvider time)
{
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(6);
    public static readonly TimeSpan StepDownAfter = TimeSpan.FromSeconds(4);
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private long _lease;
    private DateTimeOffset _renewedAt;
    private readonly Lock _gate = new();

    public ControllerIdentity Self => self;
    public bool IsLeader { get; private set; }
    /// <summary>Who holds the leader key, as last read (null: nobody, or not known yet).</summary>
    public ControllerIdentity? Leader { get; private set; }
    /// <summary>Why this controller stopped leading, once it has.</summary>
    public string? LostBecause { get; private set; }

    public ElectionOutcome Tick()
    {
        lock (_gate)
        {
            if (LostBecause is not null)
                return ElectionOutcome.Unchanged;
            var sent = time.GetUtcNow();
            try
            {
                if (_lease == 0)
                {
                    _lease = store.GrantLease(LeaseTtl);
                    _renewedAt = sent;
                    store.Register(self, _lease);
                }
                else if (store.KeepAlive(_lease))
                {
                    _renewedAt = sent;
                }
                else
                {
                    _lease = 0;
                    return IsLeader ? Lose("its lease expired before it was renewed") : ElectionOutcome.Unchanged;
                }
                var holder = store.Campaign(self, _lease);
                Leader = holder;
                if (holder?.Id == self.Id)
                {
                    if (IsLeader)
                        return ElectionOutcome.Unchanged;
                    IsLeader = true;
                    return ElectionOutcome.Elected;
                }
                return IsLeader ? Lose($"controller {holder?.Address ?? "(none)"} holds the leader key") : ElectionOutcome.Unchanged;
            }
            catch (StateStoreUnavailableException)
            {
                return MustStepDown() ? Lose($"the lease was not renewed for {StepDownAfter.TotalSeconds:0} s (the state store did not answer)") : ElectionOutcome.Unchanged;
            }
        }
    }

    /// <summary>
    /// True when this leader has gone <see cref="StepDownAfter"/> without a renewal. Checked between rounds
    /// too, since a round can hang on an unreachable store for longer than that.
    /// </summary>
    public bool MustStepDown() => IsLeader && time.GetUtcNow() - _renewedAt >= StepDownAfter;

    /// <summary>Marks the leadership lost (after <see cref="MustStepDown"/> said so outside a round).</summary>
    public ElectionOutcome StepDown(string reason)
    {
        lock (_gate)
            return LostBecause is null && IsLeader ? Lose(reason) : ElectionOutcome.Unchanged;
    }

    /// <summary>Gives the lease back (at a graceful stop), so a standby takes over at its next round instead of after the TTL.</summary>
    public void Resign()
    {
        lock (_gate)
        {
            if (_lease != 0)
                store.RevokeLease(_lease);
            _lease = 0;
            IsLeader = false;
        }
    }

    private ElectionOutcome Lose(string reason)
    {
        IsLeader = false;
        Leader = null;
        LostBecause = reason;
        return ElectionOutcome.Lost;
    }
}
