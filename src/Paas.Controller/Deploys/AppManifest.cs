using System.Text.Json;
using Paas.Core.Instances;

namespace Paas.Controller.Deploys;

/// <summary>
/// The parts of an app's app.json (Heroku's schema) that Paas applies: env defaults (value, generator:
/// secret, required), formation, buildpacks, scripts.postdeploy, and per-process health checks in Dokku's
/// style (`healthchecks.web: [{ "path": "/", "timeout": 5, "attempts": 3 }]`).
/// </summary>
public sealed record AppManifest(
    IReadOnlyList<AppManifest.EnvVar> Env,
    IReadOnlyDictionary<string, AppManifest.FormationSpec> Formation,
    IReadOnlyList<string> Buildpacks,
    string? Postdeploy,
    IReadOnlyDictionary<string, HealthCheckSpec> HealthChecks)
{
    /// <summary>`build.args`: the config vars a Dockerfile build receives as --build-arg (the others stay run-time only).</summary>
    public IReadOnlyList<string> BuildArgs { get; init; } = [];

    public sealed record EnvVar(string Name, string? Value, bool GenerateSecret, bool Required);

    public sealed record FormationSpec(int Quantity, int? MemoryMb);

    public static readonly AppManifest Empty = new([], new Dictionary<string, FormationSpec>(), [], null, new Dictionary<string, HealthCheckSpec>());

    /// <summary>Parses app.json; throws <see cref="DeployException"/> with one sentence when it is not valid.</summary>
    public static AppManifest Parse(string json, int defaultGraceSeconds)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new Instances.DeployException($"app.json is not valid JSON (line {e.LineNumber + 1}).");
        }
        if (root.ValueKind != JsonValueKind.Object)
            throw new Instances.DeployException("app.json must hold a JSON object.");

        var env = new List<EnvVar>();
        if (Property(root, "env", JsonValueKind.Object) is { } envObject)
        {
            foreach (var variable in envObject.EnumerateObject())
            {
                if (!IsVariableName(variable.Name))
                    throw Invalid($"env name '{variable.Name}' is not a valid environment variable name");
                switch (variable.Value.ValueKind)
                {
                    case JsonValueKind.String:
                        env.Add(new EnvVar(variable.Name, variable.Value.GetString(), false, true));
                        break;
                    case JsonValueKind.Object:
                        var spec = variable.Value;
                        var generator = Property(spec, "generator", JsonValueKind.String)?.GetString();
                        if (generator is not (null or "secret"))
                            throw Invalid($"env '{variable.Name}' has generator '{generator}'; only 'secret' is supported");
                        var value = spec.TryGetProperty("value", out var v) ? v.ValueKind switch
                        {
                            JsonValueKind.String => v.GetString(),
                            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
                            _ => null,
                        } : null;
                        var required = !spec.TryGetProperty("required", out var r) || r.ValueKind != JsonValueKind.False;
                        env.Add(new EnvVar(variable.Name, value, generator == "secret", required));
                        break;
                    default:
                        throw Invalid($"env '{variable.Name}' must be a string or an object");
                }
            }
        }

        var formation = new Dictionary<string, FormationSpec>(StringComparer.Ordinal);
        if (Property(root, "formation", JsonValueKind.Object) is { } formationObject)
        {
            foreach (var process in formationObject.EnumerateObject())
            {
                if (process.Value.ValueKind != JsonValueKind.Object)
                    throw Invalid($"formation '{process.Name}' must be an object");
                var quantity = process.Value.TryGetProperty("quantity", out var q) && q.TryGetInt32(out var n) ? n : 1;
                if (quantity is < 0 or > 100)
                    throw Invalid($"formation '{process.Name}' quantity must be between 0 and 100");
                int? memory = process.Value.TryGetProperty("memory", out var m) && m.TryGetInt32(out var mb) && mb > 0 ? mb : null;
                formation[process.Name] = new FormationSpec(quantity, memory);
            }
        }

        var buildpacks = new List<string>();
        if (Property(root, "buildpacks", JsonValueKind.Array) is { } buildpackArray)
        {
            foreach (var item in buildpackArray.EnumerateArray())
            {
                // A bare string ("heroku/nodejs") is not Heroku's schema; without this check it threw InvalidOperationException.
                if (item.ValueKind != JsonValueKind.Object || Property(item, "url", JsonValueKind.String)?.GetString() is not { Length: > 0 } url)
                    throw Invalid("every buildpacks entry needs a \"url\"");
                buildpacks.Add(url);
            }
        }

        var postdeploy = Property(root, "scripts", JsonValueKind.Object) is { } scripts && scripts.TryGetProperty("postdeploy", out var p)
            ? p.ValueKind switch
            {
                JsonValueKind.String => p.GetString(),
                JsonValueKind.Object => Property(p, "command", JsonValueKind.String)?.GetString(),
                _ => null,
            }
            : null;

        var checks = new Dictionary<string, HealthCheckSpec>(StringComparer.Ordinal);
        if (Property(root, "healthchecks", JsonValueKind.Object) is { } healthchecks)
        {
            foreach (var process in healthchecks.EnumerateObject())
            {
                // Dokku lists several checks per process; the first one with a path (or the first) is used.
                var list = process.Value.ValueKind == JsonValueKind.Array ? process.Value.EnumerateArray().ToList() : [process.Value];
                var check = list.FirstOrDefault(c => c.ValueKind == JsonValueKind.Object && c.TryGetProperty("path", out _));
                if (check.ValueKind != JsonValueKind.Object)
                    check = list.FirstOrDefault(c => c.ValueKind == JsonValueKind.Object);
                if (check.ValueKind != JsonValueKind.Object)
                    throw Invalid($"healthchecks '{process.Name}' must be an object or a list of objects");
                var path = Property(check, "path", JsonValueKind.String)?.GetString();
                if (path is not null && !path.StartsWith('/'))
                    throw Invalid($"healthchecks '{process.Name}' path must start with /");
                var timeout = Int(check, "timeout", 5);
                var wait = Int(check, "wait", 2);
                var attempts = Int(check, "attempts", 0);
                var initialDelay = Int(check, "initialDelay", 0);
                var grace = attempts > 0 ? initialDelay + attempts * (timeout + wait) : defaultGraceSeconds;
                checks[process.Name] = new HealthCheckSpec(path is null ? HealthCheckSpec.Port : HealthCheckSpec.Http, path, timeout, wait, grace);
            }
        }

        var buildArgs = new List<string>();
        if (Property(root, "build", JsonValueKind.Object) is { } build && Property(build, "args", JsonValueKind.Array) is { } args)
        {
            foreach (var arg in args.EnumerateArray())
            {
                if (arg.ValueKind != JsonValueKind.String || !IsVariableName(arg.GetString()!))
                    throw Invalid("every build.args entry must be the name of a config var");
                buildArgs.Add(arg.GetString()!);
            }
        }

        return new AppManifest(env, formation, buildpacks, postdeploy, checks) { BuildArgs = buildArgs };
    }

    private static int Int(JsonElement element, string name, int fallback) =>
        element.TryGetProperty(name, out var value) && value.TryGetInt32(out var n) && n >= 0 && n <= 3600 ? n : fallback;

    private static JsonElement? Property(JsonElement element, string name, JsonValueKind kind)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind != kind)
            throw Invalid($"'{name}' must be a{(kind == JsonValueKind.Array ? "n array" : kind == JsonValueKind.Object ? "n object" : " string")}");
        return value;
    }

    private static bool IsVariableName(string name) =>
        name.Length is > 0 and <= 200 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    // Names from the file are quoted in the problem, which must stay one line.
    private static Instances.DeployException Invalid(string problem) =>
        new($"app.json is not valid: {string.Concat(problem.Select(c => char.IsControl(c) ? '?' : c))}.");
}
