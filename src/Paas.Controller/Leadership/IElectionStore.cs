namespace Paas.Controller.Leadership;

/// <summary>
/// What an election needs from the shared store: leases that vanish unless renewed, one leader key that only
/// a missing key lets anyone take, and the list of live controllers. Calls throw
/// <see cref="State.StateStoreUnavailableException"/> when the store cannot answer.
/// </summary>
public interface IElectionStore
{
    long GrantLease(TimeSpan ttl);

    /// <summary>False when the lease has expired (its keys are gone).</summary>
    bool KeepAlive(long lease);

    void RevokeLease(long lease);

    /// <summary>Takes the leader key for <paramref name="me"/> with <paramref name="lease"/> if nobody holds it; returns who holds it afterwards.</summary>
    ControllerIdentity? Campaign(ControllerIdentity me, long lease);

    /// <summary>Lists <paramref name="me"/> among the live controllers for as long as <paramref name="lease"/> lives.</summary>
    void Register(ControllerIdentity me, long lease);

    IReadOnlyList<ControllerIdentity> Members();
}
