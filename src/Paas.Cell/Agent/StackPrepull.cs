using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Cell.Docker;
using Paas.Core.Cells;
using StackExchange.Redis;

namespace Paas.Cell.Agent;

/// <summary>
/// When the agent starts (a cell joins), pulls the stack image the controller published to the registry, by digest
/// (<see cref="CellKeys.StackImage"/>), and tags it as PAAS_STACK_IMAGE: release images pulled later share its
/// layers, so a new release moves only its app layer, and the cell can stage. Its <see cref="State"/> goes out with
/// every heartbeat (`paas cells`, STACK). A failed pull is tried again, less and less often.
/// </summary>
public sealed class StackPrepull(DockerCell cell, IDockerClient docker, CellAgentSettings settings, IConnectionMultiplexer redis, CellKeys keys,
    HeartbeatService heartbeat, TimeProvider time, ILogger<StackPrepull> logger) : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LastRetry = TimeSpan.FromMinutes(2);

    private volatile string? _state;

    /// <summary>`waiting`, `pulling`, `pulled` or `failed: REASON`; null when pre-pulling is off.</summary>
    public string? State => _state;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!settings.StackPrepull)
            return;
        Set("waiting");
        // The controller publishes the digest once it has pushed the stack: until then there is nothing to pull.
        string? reference = null;
        while (reference is null)
        {
            try
            {
                reference = await redis.GetDatabase().StringGetAsync(keys.StackImage);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                logger.LogWarning("Could not read the stack image's digest from Redis: {Reason}", e.Message);
            }
            if (reference is null)
                await Task.Delay(Poll, time, stoppingToken);
        }
        var retry = FirstRetry;
        while (true)
        {
            try
            {
                Set("pulling");
                await cell.PrepareImageAsync(reference, line =>
                {
                    logger.LogInformation("Stack image: {Line}", line);
                    return Task.CompletedTask;
                }, stoppingToken);
                var colon = settings.StackImage.LastIndexOf(':');
                var (repository, tag) = colon > settings.StackImage.LastIndexOf('/')
                    ? (settings.StackImage[..colon], settings.StackImage[(colon + 1)..])
                    : (settings.StackImage, "latest");
                await docker.Images.TagImageAsync(cell.Local(reference), new ImageTagParameters { RepositoryName = repository, Tag = tag, Force = true }, stoppingToken);
                Set("pulled");
                logger.LogInformation("Stack image {Reference} is on this cell as {Image}", cell.Local(reference), settings.StackImage);
                return;
            }
            catch (Exception e) when (e is ImageUnavailableException or DockerApiException or HttpRequestException or IOException)
            {
                var reason = e is DockerApiException api ? Paas.Core.Images.EngineError.Reason(api.ResponseBody ?? api.Message) : e.Message;
                Set($"failed: {reason.TrimEnd('.')}");
                logger.LogWarning("Pre-pulling the stack image failed: {Reason}; trying again in {Seconds:0} s", reason, retry.TotalSeconds);
            }
            await Task.Delay(retry, time, stoppingToken);
            retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LastRetry.Ticks));
        }
    }

    private void Set(string state)
    {
        _state = state;
        heartbeat.BeatNow();
    }
}
