using Paas.Cell.Agent;
using Paas.Core.Logs;

namespace Paas.Cell.Logs;

public static class LogServices
{
    /// <summary>The log collector and what it needs: app containers' output goes to their apps' logs in Redis.</summary>
    public static IServiceCollection AddLogCollector(this IServiceCollection services, CellAgentSettings settings)
    {
        services.AddSingleton(new LogKeys(settings.RedisPrefix));
        services.AddSingleton(sp => new AppLogWriter(sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>(),
            sp.GetRequiredService<LogKeys>(), settings.LogMaxLines, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new LogRateLimiter(settings.LogRateLinesPerSecond, 2.0 * settings.LogRateLinesPerSecond, sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService<LogCollector>();
        return services;
    }
}
