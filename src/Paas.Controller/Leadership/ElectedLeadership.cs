using Paas.Controller.State;

namespace Paas.Controller.Leadership;

/// <summary>Leadership won in an election on the shared store (<see cref="LeaderElection"/>), one round a second.</summary>
public sealed class ElectedLeadership(IElectionStore store, ControllerIdentity self, TimeProvider time, ILogger<ElectedLeadership> logger) : ILeadership
{
    private readonly LeaderElection _election = new(store, self, time);

    public ControllerIdentity Self => self;
    public bool IsLeader => _election.IsLeader;
    public ControllerIdentity? Leader => _election.Leader;

    public IReadOnlyList<ControllerIdentity> Standbys()
    {
        try
        {
            return store.Members().Where(m => m.Id != self.Id).ToList();
        }
        catch (StateStoreUnavailableException e)
        {
            logger.LogWarning("Could not list the standby controllers: {Reason}", e.Message);
            return [];
        }
    }

    public async Task RunAsync(Func<Task> elected, Func<string, Task> lost, CancellationToken cancellationToken)
    {
        // The watchdog fences between rounds: a round stuck on an unreachable store must not keep a leader leading.
        var watchdog = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250), time);
            while (await timer.WaitForNextTickAsync(cancellationToken).AsTask().ContinueWith(t => t is { IsCompletedSuccessfully: true, Result: true }, TaskScheduler.Default))
            {
                if (_election.MustStepDown() && _election.StepDown($"the lease was not renewed for {LeaderElection.StepDownAfter.TotalSeconds:0} s") == ElectionOutcome.Lost)
                {
                    await lost(_election.LostBecause!);
                    return;
                }
            }
        }, CancellationToken.None);
        var leader = Leader;
        using var rounds = new PeriodicTimer(LeaderElection.Interval, time);
        do
        {
            var outcome = await Task.Run(_election.Tick, CancellationToken.None);
            if (Leader?.Id != leader?.Id)
            {
                leader = Leader;
                logger.LogInformation("Leader controller: {Leader}", leader is null ? "none" : leader.Id == self.Id ? $"this one ({self.Address})" : leader.Address);
            }
            if (outcome == ElectionOutcome.Elected)
                await elected();
            else if (outcome == ElectionOutcome.Lost)
            {
                await lost(_election.LostBecause!);
                break;
            }
        }
        while (await rounds.WaitForNextTickAsync(cancellationToken).AsTask().ContinueWith(t => t is { IsCompletedSuccessfully: true, Result: true }, TaskScheduler.Default));
        await watchdog;
    }

    public void Resign() => _election.Resign();
}
