namespace Paas.Controller.Leadership;

/// <summary>
/// Which controller runs the loops that change things (convergence, deploy recovery, pruning). With etcd any
/// number of controllers run and one leads (<see cref="ElectedLeadership"/>); with SQLite there is one
/// controller and it always leads (<see cref="SingleController"/>).
/// </summary>
public interface ILeadership
{
    ControllerIdentity Self { get; }
    bool IsLeader { get; }
    /// <summary>The leader, as this controller last saw it; null when there is none.</summary>
    ControllerIdentity? Leader { get; }
    string Role => IsLeader ? "leader" : "standby";

    /// <summary>The other live controllers (the leader copies each accepted push to them).</summary>
    IReadOnlyList<ControllerIdentity> Standbys();

    /// <summary>Campaigns until cancelled: calls <paramref name="elected"/> once on winning, <paramref name="lost"/> once if leadership is lost after that.</summary>
    Task RunAsync(Func<Task> elected, Func<string, Task> lost, CancellationToken cancellationToken);

    /// <summary>Gives leadership up at a graceful stop.</summary>
    void Resign();
}
