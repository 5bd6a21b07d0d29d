namespace Paas.Controller.Leadership;

/// <summary>The SQLite platform: one controller, which leads from its start.</summary>
public sealed class SingleController(ControllerIdentity self) : ILeadership
{
    public ControllerIdentity Self => self;
    public bool IsLeader => true;
    public ControllerIdentity? Leader => self;

    public IReadOnlyList<ControllerIdentity> Standbys() => [];

    public async Task RunAsync(Func<Task> elected, Func<string, Task> lost, CancellationToken cancellationToken)
    {
        await elected();
        await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public void Resign()
    {
    }
}
