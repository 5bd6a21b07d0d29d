using System.Threading.Channels;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Cell.Agent;
using Paas.Cell.Docker;
using Paas.Core.Instances;
using Paas.Core.Logs;
using StackExchange.Redis;

namespace Paas.Cell.Logs;

/// <summary>
/// Keeps one <see cref="ContainerLogFollower"/> per app container of this cell. Which containers exist is
/// read from the engine on every pass (so nothing depends on having seen an event), and a container start
/// event triggers a pass at once, so a new instance's first lines reach its log promptly.
/// </summary>
public sealed class LogCollector(
    IDockerClient docker,
    DockerCell cell,
    CellAgentSettings settings,
    AppLogWriter writer,
    LogRateLimiter limiter,
    IConnectionMultiplexer redis,
    LogKeys keys,
    TimeProvider time,
    ILogger<LogCollector> logger) : BackgroundService
{
    private static readonly TimeSpan PassInterval = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, Task> _following = new();
    /// <summary>Stopped containers whose output was read to the end; running ones are followed again if their stream ends.</summary>
    private readonly HashSet<string> _finished = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var events = WatchStartsAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PassAsync(stoppingToken);
                await WriteDropMarkersAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Log collection pass failed ({Reason}); retrying", e.Message);
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(PassInterval);
            try
            {
                await _wake.Reader.WaitToReadAsync(timeout.Token);
                _wake.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
        await Task.WhenAll(_following.Values.Append(events)).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task PassAsync(CancellationToken stoppingToken)
    {
        var containers = await cell.ListAsync(stoppingToken);
        foreach (var done in _following.Where(f => f.Value.IsCompleted).Select(f => f.Key).ToList())
            _following.Remove(done);
        foreach (var container in containers)
        {
            bool finished;
            lock (_finished)
                finished = _finished.Contains(container.ContainerId);
            if (_following.ContainsKey(container.ContainerId) || (!container.Running && finished))
                continue;
            _following[container.ContainerId] = FollowAsync(container, stoppingToken);
        }

        // Cursors and bookkeeping of containers that are gone.
        var present = containers.Select(c => c.ContainerId).ToHashSet();
        lock (_finished)
            _finished.IntersectWith(present);
        var db = redis.GetDatabase();
        var stale = (await db.HashKeysAsync(keys.Cursors(settings.Name)))
            .Where(k => !present.Contains(k.ToString()) && !_following.ContainsKey(k.ToString()))
            .ToArray();
        if (stale.Length > 0)
            await db.HashDeleteAsync(keys.Cursors(settings.Name), stale);
    }

    private async Task FollowAsync(InstanceState container, CancellationToken stoppingToken)
    {
        // Off the pass's thread: the follower runs until its container stops.
        await Task.Yield();
        var follower = new ContainerLogFollower(docker, writer, limiter, redis, keys, settings.Name, logger);
        try
        {
            await follower.FollowAsync(container.ContainerId, container.App, $"{container.Process}.{container.Index}", stoppingToken);
            if (!container.Running)
            {
                lock (_finished)
                    _finished.Add(container.ContainerId);
            }
            else
                Wake();
        }
        catch (DockerContainerNotFoundException)
        {
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // The next pass starts a new follower, which resumes from the stored cursor.
            logger.LogWarning("Following the output of {App} {Process}.{Index} stopped ({Reason}); resuming", container.App, container.Process, container.Index, e.Message);
        }
    }

    private async Task WriteDropMarkersAsync()
    {
        foreach (var (app, dropped) in limiter.TakePendingDrops())
            await writer.WriteAsync(app, LogSource.Platform, "", LogRateLimiter.Marker(dropped));
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    private async Task WatchStartsAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await docker.System.MonitorEventsAsync(new ContainerEventsParameters
                {
                    Filters = new Dictionary<string, IDictionary<string, bool>>
                    {
                        ["type"] = new Dictionary<string, bool> { ["container"] = true },
                        ["event"] = new Dictionary<string, bool> { ["start"] = true },
                        ["label"] = new Dictionary<string, bool> { [$"{ContainerLabels.Cell}={settings.Name}"] = true, [$"{ContainerLabels.Role}=instance"] = true },
                    },
                }, new Progress<Message>(_ => Wake()), stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogDebug("Lost the engine's event stream ({Reason}); reconnecting", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
