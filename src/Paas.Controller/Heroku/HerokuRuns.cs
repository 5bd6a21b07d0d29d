using System.Text.Json;
using Paas.Controller.Api;
using Paas.Controller.Runs;
using Paas.Controller.State;
using Paas.Core.Configuration;

namespace Paas.Controller.Heroku;

/// <summary>
/// `heroku run` and `heroku run:detached`: POST /apps/APP/dynos. Detached, the run starts as run.N with its output
/// in the app's logs (as `paas run:detached`); attached, the answer's attach_url names the rendezvous port and a
/// one-time secret (<see cref="RendezvousListener"/>), and the run starts when the CLI connects with it.
/// </summary>
public static class HerokuRuns
{
    public sealed record DynoRequest(string? Command, bool? Attach, Dictionary<string, JsonElement>? Env, string? Size, string? Type,
        [property: System.Text.Json.Serialization.JsonPropertyName("force_no_tty")] bool? ForceNoTty);

    internal static IResult Create(HttpContext context, DynoRequest? body, IStateStore db, OneOffRuns runs, RendezvousSecrets<RendezvousRun> secrets,
        RendezvousAddress rendezvous, PaasSettings settings, TimeProvider time)
    {
        var app = HerokuEndpoints.Name(context);
        if (db.CurrentRelease(app) is not { } release)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "no_release", $"{app} has no release yet: push first (git push heroku main).");
        var (command, limit, problemId, problem) = runs.Check(body?.Command, null);
        if (problem is not null)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, problemId, problem.Replace("paas run --", "heroku run"));
        var attach = body?.Attach ?? false;
        if (attach && !rendezvous.Open)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "rendezvous_closed",
                "This platform does not serve `heroku run`'s attach port (PAAS_RENDEZVOUS_PORT, with the API's TLS certificate): use run:detached or `paas run`.");
        var start = new RunStart(app, HerokuEndpoints.User(context), release, command, limit, Environment(release.Config, body?.Env));
        string name;
        string? attachUrl = null;
        if (attach)
        {
            name = runs.NextName(app);
            attachUrl = rendezvous.Url(secrets.Issue(new RendezvousRun(start, name, body?.ForceNoTty == true ? null : Terminal(body?.Env))));
        }
        else
            name = runs.StartDetached(start);
        var now = time.GetUtcNow();
        return Results.Json(new
        {
            id = HerokuIds.Dyno($"{app}/{name}/{now.ToUnixTimeMilliseconds()}"),
            name,
            type = "run",
            state = "starting",
            command,
            size = HerokuShapes.Size(settings.AppMemoryBytes / (1024 * 1024)),
            attach_url = attachUrl,
            release = new { id = HerokuIds.Release(app, release.Version), version = release.Version },
            app = HerokuShapes.AppRef(app),
            created_at = now,
            updated_at = now,
        }, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>
    /// The CLI sends COLUMNS and LINES only when its output is a terminal (and TERM from its environment): then the run
    /// gets a TTY of that size (unless the CLI says --no-tty). Without them (a script, a pipe) it is line mode.
    /// </summary>
    private static RunTerminal? Terminal(Dictionary<string, JsonElement>? env)
    {
        static int? Number(Dictionary<string, JsonElement> env, string name)
        {
            if (!env.TryGetValue(name, out var v))
                return null;
            var n = v.ValueKind switch
            {
                JsonValueKind.Number when v.TryGetInt32(out var i) => i,
                JsonValueKind.String when int.TryParse(v.GetString(), out var j) => j,
                _ => 0,
            };
            return n is > 0 and < 10_000 ? n : null;
        }
        if (env is null || !env.ContainsKey("COLUMNS"))
            return null;
        // A terminal that reports no size (0x0, as a fresh pseudo-terminal does) gets the classic 80x24.
        var (columns, rows) = (Number(env, "COLUMNS") ?? 80, Number(env, "LINES") ?? 24);
        return new RunTerminal(OneOffRuns.Term(env.TryGetValue("TERM", out var term) && term.ValueKind == JsonValueKind.String ? term.GetString() : null), columns, rows);
    }

    /// <summary>
    /// The app's config with the CLI's `-e NAME=value` on top. TERM, COLUMNS and LINES describe the user's terminal,
    /// which line mode does not have.
    /// </summary>
    private static IReadOnlyDictionary<string, string> Environment(IReadOnlyDictionary<string, string> config, Dictionary<string, JsonElement>? given)
    {
        if (given is null || given.Count == 0)
            return config;
        var environment = new Dictionary<string, string>(config);
        foreach (var (key, value) in given)
            if (key is not ("TERM" or "COLUMNS" or "LINES") && value.ValueKind is JsonValueKind.String or JsonValueKind.Number)
                environment[key] = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        return environment;
    }
}
