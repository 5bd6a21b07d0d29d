using System.Text.Json;
using Paas.Core.Cells;
using StackExchange.Redis;

namespace Paas.Controller.Cells;

/// <summary>The agents' instance events, from their Redis channel (<see cref="CellKeys.Events"/>).</summary>
public sealed class RedisCellEvents(IConnectionMultiplexer redis, CellKeys keys, ILogger<RedisCellEvents> logger) : ICellEvents
{
    public Task SubscribeAsync(Func<CellEvent, Task> handler) =>
        redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(keys.Events), (channel, message) =>
        {
            CellEvent? died;
            try
            {
                died = JsonSerializer.Deserialize<CellEvent>(message.ToString());
            }
            catch (JsonException)
            {
                logger.LogWarning("Ignoring an unreadable cell event");
                return;
            }
            // Not awaited: Redis delivers messages in order on one thread, and a replacement must not hold up the next event.
            if (died is not null)
                _ = handler(died);
        });
}
