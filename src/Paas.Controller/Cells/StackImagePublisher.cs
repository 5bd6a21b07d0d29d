using Docker.DotNet;
using Paas.Core.Cells;
using Paas.Core.Configuration;
using Paas.Staging;
using Paas.Staging.Images;
using StackExchange.Redis;

namespace Paas.Controller.Cells;

/// <summary>
/// Publishes the stack image (PAAS_STACK_IMAGE, on the controller's engine) to the registry once, by digest, and
/// names that digest in Redis (<see cref="CellKeys.StackImage"/>) for cells to pre-pull when they join
/// (PAAS_CELL_STACK_PREPULL): a release image pulled later then moves only its app layer. A controller restart
/// pushes again only when the engine's stack is not the one published.
/// </summary>
public sealed class StackImagePublisher(IDockerClient docker, PaasSettings settings, IConnectionMultiplexer redis, CellKeys keys, TimeProvider time,
    ILogger<StackImagePublisher> logger) : BackgroundService
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan LastRetry = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.Registry is not { } registry)
            return;
        var wait = FirstRetry;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PublishAsync(registry, stoppingToken);
                return;
            }
            catch (Exception e) when (e is StagingException or DockerApiException or HttpRequestException or IOException or RedisException or TimeoutException)
            {
                // The registry or Redis is away now (or the stack is not built yet): cells wait for the key meanwhile.
                logger.LogWarning("Publishing the stack image {Image} to the registry {Registry} failed: {Reason}; trying again in {Seconds:0} s",
                    settings.StackImage, registry.Address, e.Message, wait.TotalSeconds);
            }
            await Task.Delay(wait, time, stoppingToken);
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, LastRetry.Ticks));
        }
    }

    private async Task PublishAsync(Paas.Core.Images.RegistryAccess registry, CancellationToken cancellationToken)
    {
        var image = await docker.Images.InspectImageAsync(settings.StackImage, cancellationToken);
        var colon = settings.StackImage.LastIndexOf(':');
        var repository = $"{registry.Address}/{(colon > settings.StackImage.LastIndexOf('/') ? settings.StackImage[..colon] : settings.StackImage)}";
        var published = (string?)await redis.GetDatabase().StringGetAsync(keys.StackImage);
        if (published is not null && image.RepoDigests?.Contains(published) == true)
        {
            logger.LogInformation("The stack image is in the registry already as {Digest}", published);
            return;
        }
        var reference = colon > settings.StackImage.LastIndexOf('/') ? settings.StackImage : settings.StackImage + ":latest";
        var digest = await new ReleaseImagePublisher(docker, registry).PushAsync(reference, line =>
        {
            logger.LogInformation("Stack image: {Line}", line.Trim());
            return Task.CompletedTask;
        }, cancellationToken);
        await redis.GetDatabase().StringSetAsync(keys.StackImage, digest);
        logger.LogInformation("Published the stack image {Image} to the registry as {Digest}", settings.StackImage, digest);
    }
}
