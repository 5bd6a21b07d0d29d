namespace Paas.Controller.Leadership;

/// <summary>
/// Runs the election and, once this controller leads, the leader-only services (<see cref="LeaderOnlyServices"/>).
/// A leader that loses leadership exits with status 3 rather than stopping its loops and going on as a
/// standby: whatever a loop was doing (a container half-started, a route half-written) ends with the process,
/// no code path has to be written twice (a leading and a demoted mode), and the supervisor (deploy/supervise.sh,
/// systemd's Restart=always) starts it again, as a fresh standby, within a second or two.
/// </summary>
public sealed class LeadershipService(
    ILeadership leadership,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    ILogger<LeadershipService> logger) : BackgroundService
{
    public const int LostLeadershipExitCode = 3;
    private readonly List<IHostedService> _started = [];
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>How the process ends when leadership is lost (tests replace it).</summary>
    public Action<int> Exit { get; init; } = code =>
    {
        Environment.ExitCode = code;
        // Environment.Exit from a hosted service can deadlock against the host's own shutdown, so the host is
        // stopped; should that hang, the process still ends a few seconds later.
        _ = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            Environment.Exit(code);
        });
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var catchUp = CatchUpAsStandbyAsync(stoppingToken);
        await leadership.RunAsync(StartLeaderOnlyAsync, OnLostAsync, stoppingToken);
        await catchUp;
    }

    /// <summary>
    /// A controller that starts as a standby fetches every repository from the leader first: pushes accepted while
    /// it was down were copied to the others only.
    /// </summary>
    private async Task CatchUpAsStandbyAsync(CancellationToken stoppingToken)
    {
        if (services.GetService<Git.RepositoryReplicator>() is not { } replicator)
            return;
        try
        {
            while (leadership.Leader is null)
                await Task.Delay(TimeSpan.FromMilliseconds(200), stoppingToken);
            if (leadership.Leader is { } leader && leader.Id != leadership.Self.Id)
                await replicator.CatchUpAsync(leader, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Fetching the repositories from the leader failed; pushes copied from now on still arrive");
        }
    }

    private async Task StartLeaderOnlyAsync()
    {
        await _gate.WaitAsync();
        try
        {
            var types = services.GetService<LeaderOnlyServices>()?.Types ?? [];
            logger.LogInformation("This controller ({Address}) is the leader: starting {Services}", leadership.Self.Address, string.Join(", ", types.Select(t => t.Name)));
            foreach (var type in types)
            {
                var service = (IHostedService)services.GetRequiredService(type);
                await service.StartAsync(CancellationToken.None);
                _started.Add(service);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task OnLostAsync(string reason)
    {
        logger.LogCritical("This controller lost the leadership ({Reason}): stopping its loops and exiting with status {Code}, to start again as a standby", reason, LostLeadershipExitCode);
        using (var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
            await StopLeaderOnlyAsync(bounded.Token);
        Exit(LostLeadershipExitCode);
        lifetime.StopApplication();
    }

    private async Task StopLeaderOnlyAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            for (var i = _started.Count - 1; i >= 0; i--)
            {
                try
                {
                    await _started[i].StopAsync(cancellationToken);
                }
                catch (Exception e) when (e is OperationCanceledException or AggregateException)
                {
                    logger.LogWarning("{Service} did not stop in time", _started[i].GetType().Name);
                }
            }
            _started.Clear();
        }
        finally
        {
            _gate.Release();
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await StopLeaderOnlyAsync(cancellationToken);
        await base.StopAsync(cancellationToken);
        // After the loops stopped: a standby may take over at its next round.
        leadership.Resign();
    }
}
