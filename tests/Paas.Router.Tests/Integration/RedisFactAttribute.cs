namespace Paas.Router.Tests.Integration;

/// <summary>
/// A fact that needs a real Redis. Skipped when Redis is unreachable on a developer machine; under
/// CI=true it always runs, so an unreachable Redis fails it instead of letting it pass unseen.
/// </summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (!RedisTestEnvironment.IsCi && !RedisTestEnvironment.IsReachable)
        {
            Skip = $"Redis is not reachable at {RedisTestEnvironment.Configuration} (set CI=true to make this a failure).";
        }
    }
}
