using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Paas.Controller.Leadership;

namespace Paas.Controller.Tests.Leadership;

/// <summary>The leader-only services start when elected and stop, followed by exit status 3, when leadership is lost.</summary>
public sealed class LeadershipServiceTests
{
    [Fact]
    public async Task Lost_StopsLeaderOnlyServicesInReverse_ThenExitsWith3()
    {
        var log = new List<string>();
        var services = new ServiceCollection();
        services.AddSingleton(log);
        services.AddLeaderOnly<First>();
        services.AddLeaderOnly<Second>();
        using var provider = services.BuildServiceProvider();
        var leadership = new ScriptedLeadership();
        var exitCode = 0;
        var service = new LeadershipService(leadership, provider, new Lifetime(), NullLogger<LeadershipService>.Instance)
        {
            Exit = code => { log.Add($"exit {code}"); exitCode = code; },
        };

        await service.StartAsync(CancellationToken.None);
        await leadership.Elect();
        Assert.Equal(["start First", "start Second"], log);
        await leadership.Lose();

        Assert.Equal(["start First", "start Second", "stop Second", "stop First", "exit 3"], log);
        Assert.Equal(LeadershipService.LostLeadershipExitCode, exitCode);
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Standby_StartsNoLeaderOnlyService()
    {
        var log = new List<string>();
        var services = new ServiceCollection();
        services.AddSingleton(log);
        services.AddLeaderOnly<First>();
        using var provider = services.BuildServiceProvider();
        var leadership = new ScriptedLeadership();
        var service = new LeadershipService(leadership, provider, new Lifetime(), NullLogger<LeadershipService>.Instance) { Exit = _ => { } };

        await service.StartAsync(CancellationToken.None);
        await service.StopAsync(CancellationToken.None);

        Assert.Empty(log);
        Assert.True(leadership.Resigned);
    }

    private abstract class Recorder(List<string> log) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            log.Add("start " + GetType().Name);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            log.Add("stop " + GetType().Name);
            return Task.CompletedTask;
        }
    }

    private sealed class First(List<string> log) : Recorder(log);

    private sealed class Second(List<string> log) : Recorder(log);

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }

    /// <summary>Leadership the test hands out and takes away.</summary>
    private sealed class ScriptedLeadership : ILeadership
    {
        private Func<Task>? _elected;
        private Func<string, Task>? _lost;
        private readonly TaskCompletionSource _running = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ControllerIdentity Self { get; } = new("self", "http://127.0.0.1:1");
        public bool IsLeader { get; private set; }
        public ControllerIdentity? Leader => IsLeader ? Self : new ControllerIdentity("other", "http://127.0.0.1:2");
        public bool Resigned { get; private set; }

        public IReadOnlyList<ControllerIdentity> Standbys() => [];

        public async Task RunAsync(Func<Task> elected, Func<string, Task> lost, CancellationToken cancellationToken)
        {
            _elected = elected;
            _lost = lost;
            _running.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        public async Task Elect()
        {
            await _running.Task;
            IsLeader = true;
            await _elected!();
        }

        public async Task Lose()
        {
            IsLeader = false;
            await _lost!("test");
        }

        public void Resign() => Resigned = true;
    }
}
