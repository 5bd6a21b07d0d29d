using System.Net.Sockets;

namespace Paas.Router.Tests.Integration;

/// <summary>
/// Where the integration tests find Redis, and whether a missing Redis is a skip (a developer's
/// laptop) or a failure (CI, where a silently skipped test would hide a broken router).
/// </summary>
internal static class RedisTestEnvironment
{
    private static readonly Lazy<bool> Reachable = new(Probe);

    public static string Configuration =>
        Environment.GetEnvironmentVariable("PAAS_REDIS") is { Length: > 0 } value ? value : "127.0.0.1:6379";

    public static bool IsCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static bool IsReachable => Reachable.Value;

    private static bool Probe()
    {
        // First "host:port" token of the StackExchange config string; options like password=... are skipped.
        var endpoint = Configuration.Split(',').Select(p => p.Trim()).FirstOrDefault(p => p.Length > 0 && !p.Contains('='))
            ?? "127.0.0.1:6379";
        var colon = endpoint.LastIndexOf(':');
        var host = colon > 0 ? endpoint[..colon] : endpoint;
        var port = colon > 0 && int.TryParse(endpoint[(colon + 1)..], out var p) ? p : 6379;

        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync(host, port).Wait(TimeSpan.FromSeconds(1)) && client.Connected;
        }
        catch (Exception)
        {
            return false;
        }
    }
}
