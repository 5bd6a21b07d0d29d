using System.Globalization;

namespace Paas.Core.Addons;

/// <summary>
/// The add-on services the platform runs, each once: its names (ours and Heroku's), plans, port, the config
/// var it injects and how that URL is written. Every caller (API, Heroku API, CLI help, cells) reads this one table.
/// </summary>
public sealed record AddonKind(string Name, string[] Aliases, string ConfigVar, int Port, string Scheme, IReadOnlyDictionary<string, int> PlansMb, string DefaultPlan)
{
    public static readonly AddonKind Postgresql = new("postgresql", ["postgres", "heroku-postgresql", "pg"], "DATABASE_URL", 5432, "postgres",
        new Dictionary<string, int> { ["hobby"] = 256, ["small"] = 512, ["standard"] = 1024 }, "hobby");

    public static readonly AddonKind Redis = new("redis", ["heroku-redis"], "REDIS_URL", 6379, "redis",
        new Dictionary<string, int> { ["hobby"] = 128, ["small"] = 256, ["standard"] = 1024 }, "hobby");

    public static readonly IReadOnlyList<AddonKind> All = [Postgresql, Redis];

    /// <summary>The image every add-on container runs (deploy/addons/build.sh builds it on each cell's engine).</summary>
    public const string Image = "paas/addons:latest";

    /// <summary>The add-on's container name, which is also its host name on the engine's network.</summary>
    public static string ContainerName(string id) => "paas-addon-" + id;

    public static string VolumeName(string id) => "paas-addon-" + id;

    public static AddonKind? Find(string name) =>
        All.FirstOrDefault(k => k.Name == name || k.Aliases.Contains(name, StringComparer.Ordinal));

    /// <summary>
    /// Reads `postgresql`, `postgresql:small`, `heroku-postgresql:essential-0`: the kind, and the plan (an
    /// unknown Heroku plan name maps to the default plan, so the real `heroku` CLI's plan names work); null with
    /// a sentence when the service is unknown.
    /// </summary>
    public static (AddonKind? Kind, string Plan, string? Problem) Parse(string service)
    {
        var colon = service.IndexOf(':');
        var name = (colon < 0 ? service : service[..colon]).Trim().ToLowerInvariant();
        var plan = colon < 0 ? "" : service[(colon + 1)..].Trim().ToLowerInvariant();
        if (Find(name) is not { } kind)
            return (null, "", $"Unknown add-on service '{name}'; this platform offers: {string.Join(", ", All.Select(k => k.Name))}.");
        if (plan.Length == 0 || (!kind.PlansMb.ContainsKey(plan) && name.StartsWith("heroku-", StringComparison.Ordinal)))
            return (kind, kind.DefaultPlan, null);
        return kind.PlansMb.ContainsKey(plan)
            ? (kind, plan, null)
            : (null, "", $"Unknown plan '{plan}' for {kind.Name}; plans: {string.Join(", ", kind.PlansMb.Select(p => $"{p.Key} ({p.Value} MB)"))}.");
    }

    /// <summary>The URL the app gets in <see cref="ConfigVar"/>: the add-on's container name is its host on the engine's network.</summary>
    public string Url(string id, string user, string password, string database) => Name == "redis"
        ? string.Create(CultureInfo.InvariantCulture, $"redis://:{password}@{ContainerName(id)}:{Port}")
        : string.Create(CultureInfo.InvariantCulture, $"postgres://{user}:{password}@{ContainerName(id)}:{Port}/{database}");
}
