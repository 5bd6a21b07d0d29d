using System.Globalization;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Core.Cells;
using Paas.Core.Instances;
using StackExchange.Redis;

namespace Paas.Cell.Agent;

/// <summary>
/// The fast path of convergence: the engine tells us the moment an instance's process exits, and we tell
/// the controller (with the exit code and whether memory killed it) instead of waiting for a sync.
/// </summary>
public sealed class ContainerEventWatcher(
    IDockerClient docker,
    CellAgentSettings settings,
    StoppingInstances stopping,
    HeartbeatService heartbeat,
    IConnectionMultiplexer redis,
    CellKeys keys,
    TimeProvider time,
    ILogger<ContainerEventWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
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
                        ["event"] = new Dictionary<string, bool> { ["die"] = true },
                        ["label"] = new Dictionary<string, bool> { [$"{ContainerLabels.Cell}={settings.Name}"] = true, [$"{ContainerLabels.Role}=instance"] = true },
                    },
                }, new Progress<Message>(m => _ = OnDiedAsync(m, stoppingToken)), stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Lost the engine's event stream ({Reason}); reconnecting", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
        }
    }

    private async Task OnDiedAsync(Message message, CancellationToken cancellationToken)
    {
        try
        {
            IReadOnlyDictionary<string, string> labels = message.Actor?.Attributes is { } attributes ? new Dictionary<string, string>(attributes) : new Dictionary<string, string>();
            if (!labels.TryGetValue(ContainerLabels.Instance, out var instance) || stopping.Contains(instance))
                return;
            var inspected = await docker.Containers.InspectContainerAsync(message.Actor!.ID, cancellationToken);
            var died = new CellEvent(
                settings.Name,
                instance,
                labels.GetValueOrDefault(ContainerLabels.App, ""),
                labels.GetValueOrDefault(ContainerLabels.Process, ""),
                int.TryParse(labels.GetValueOrDefault(ContainerLabels.Index), NumberStyles.Integer, CultureInfo.InvariantCulture, out var index) ? index : 0,
                int.TryParse(labels.GetValueOrDefault(ContainerLabels.Release), NumberStyles.Integer, CultureInfo.InvariantCulture, out var release) ? release : 0,
                inspected.State.ExitCode,
                inspected.State.OOMKilled,
                time.GetUtcNow())
            {
                StartedAt = DateTimeOffset.TryParse(inspected.State.StartedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var started) ? started : null,
            };
            await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(keys.Events), JsonSerializer.Serialize(died));
            heartbeat.BeatNow();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Could not report an exited instance: {Reason}", e.Message);
        }
    }
}
