using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Paas.Router;

/// <summary>
/// Everything the router reads from its environment, parsed once at start so a typo fails loudly
/// before any port is bound rather than surfacing later as odd routing.
/// </summary>
public sealed record RouterSettings
{
    public const int DefaultPublicPort = 8080;
    public const int DefaultAdminPort = 8081;
    public const string DefaultBind = "0.0.0.0";
    public const string DefaultRedis = "127.0.0.1:6379";
    public const string DefaultPrefix = "paas:";
    public static readonly TimeSpan DefaultResyncInterval = TimeSpan.FromSeconds(30);

    public int PublicPort { get; init; } = DefaultPublicPort;
    public IPAddress Bind { get; init; } = IPAddress.Any;
    public int AdminPort { get; init; } = DefaultAdminPort;
    public string Redis { get; init; } = DefaultRedis;
    public string RedisPrefix { get; init; } = DefaultPrefix;
    public TimeSpan ResyncInterval { get; init; } = DefaultResyncInterval;

    /// <summary>True when the public listener should take every interface (IPv6 too, where present).</summary>
    public bool BindsAnyAddress => Bind.Equals(IPAddress.Any) || Bind.Equals(IPAddress.IPv6Any);

    /// <exception cref="FormatException">A variable is set to something unusable.</exception>
    public static RouterSettings FromEnvironment(Func<string, string?> read)
    {
        var settings = new RouterSettings
        {
            PublicPort = Port(read, "PAAS_ROUTER_PORT", DefaultPublicPort),
            Bind = Address(read, "PAAS_ROUTER_BIND", DefaultBind),
            AdminPort = Port(read, "PAAS_ROUTER_ADMIN_PORT", DefaultAdminPort),
            Redis = NonEmpty(read("PAAS_REDIS")) ?? DefaultRedis,
            // An empty prefix is legitimate (keys at the top level), so only an unset variable falls back.
            RedisPrefix = read("PAAS_REDIS_PREFIX") ?? DefaultPrefix,
            ResyncInterval = Seconds(read, "PAAS_ROUTER_RESYNC_SECONDS", DefaultResyncInterval),
        };

        if (settings.PublicPort == settings.AdminPort)
        {
            // Admin is told apart from public traffic by the local port; sharing one would expose /routes publicly.
            throw new FormatException($"PAAS_ROUTER_PORT and PAAS_ROUTER_ADMIN_PORT must differ (both {settings.PublicPort}).");
        }

        try
        {
            ConfigurationOptions.Parse(settings.Redis);
        }
        catch (ArgumentException ex)
        {
            throw new FormatException($"PAAS_REDIS is not a valid Redis configuration string: {ex.Message}", ex);
        }

        return settings;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static int Port(Func<string, string?> read, string name, int fallback)
    {
        var raw = NonEmpty(read(name));
        if (raw is null)
        {
            return fallback;
        }

        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new FormatException($"{name} must be a TCP port (1-65535), got '{raw}'.");
        }

        return port;
    }

    private static IPAddress Address(Func<string, string?> read, string name, string fallback)
    {
        var raw = NonEmpty(read(name)) ?? fallback;
        try
        {
            return IPAddress.Parse(raw);
        }
        catch (FormatException)
        {
            throw new FormatException($"{name} must be an IP address such as 0.0.0.0 or 127.0.0.1, got '{raw}'.");
        }
    }

    private static TimeSpan Seconds(Func<string, string?> read, string name, TimeSpan fallback)
    {
        var raw = NonEmpty(read(name));
        if (raw is null)
        {
            return fallback;
        }

        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            || !double.IsFinite(seconds) || seconds <= 0 || seconds > TimeSpan.FromDays(1).TotalSeconds)
        {
            throw new FormatException($"{name} must be a positive number of seconds, got '{raw}'.");
        }

        return TimeSpan.FromSeconds(seconds);
    }
}
