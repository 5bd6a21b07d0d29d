namespace Paas.Router.Tests.Integration;

/// <summary>
/// Where the integration tests find Redis. A missing Redis fails them (never a skip, which would hide
/// a broken router); `make test` starts Redis first.
/// </summary>
internal static class RedisTestEnvironment
{
    public static string Configuration =>
        Environment.GetEnvironmentVariable("PAAS_REDIS") is { Length: > 0 } value ? value : "127.0.0.1:6379";
}
