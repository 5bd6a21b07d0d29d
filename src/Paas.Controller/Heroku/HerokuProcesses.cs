using System.Globalization;
using System.Text.Json;
using Paas.Controller.Api;
using Paas.Controller.Formation;
using Paas.Controller.Instances;
using Paas.Controller.State;
using Paas.Core.Instances;

namespace Paas.Controller.Heroku;

/// <summary>Heroku formation (ps:scale) and dynos (ps), over the Paas formation service and instances.</summary>
public static class HerokuProcesses
{
    public sealed record FormationUpdate(string? Type, JsonElement? Quantity, string? Size);
    public sealed record FormationBatch(List<FormationUpdate>? Updates);

    internal static IResult ListFormation(HttpContext context, IStateStore db, FormationService formation) =>
        Results.Json(Formation(HerokuEndpoints.Name(context), db, formation));

    internal static List<object> Formation(string app, IStateStore db, FormationService formation)
    {
        var updatedAt = db.CurrentRelease(app)?.CreatedAt ?? db.FindApp(app)!.CreatedAt;
        return formation.Describe(app).Select(f => HerokuShapes.Formation(app, f, updatedAt)).ToList();
    }

    /// <summary>Heroku quantities come as numbers or strings, absolute ("2") or relative ("+1", "-1").</summary>
    internal static async Task<IResult> ScaleAsync(HttpContext context, IReadOnlyList<FormationUpdate> updates, IStateStore db, FormationService formation, CancellationToken ct)
    {
        var app = HerokuEndpoints.Name(context);
        var current = formation.Describe(app).ToDictionary(f => f.Process, f => f.Quantity);
        var changes = new List<FormationChange>();
        foreach (var update in updates)
        {
            int? quantity = null;
            if (update.Quantity is { } q && q.ValueKind != JsonValueKind.Null)
            {
                var text = q.ValueKind == JsonValueKind.String ? q.GetString()!.Trim() : q.GetRawText();
                if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                    return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_params", $"Quantity '{text}' for {update.Type} is not a whole number.");
                quantity = text.StartsWith('+') || text.StartsWith('-') ? current.GetValueOrDefault(update.Type ?? "") + n : n;
            }
            changes.Add(new FormationChange(update.Type, quantity, update.Size));
        }
        try
        {
            var outcome = await formation.ScaleAsync(app, changes, HerokuEndpoints.User(context), ct);
            // The CLI prints this header as a warning: instances that could not be placed are worth knowing about.
            if (outcome.Problems.Count > 0)
                context.Response.Headers["Warning-Message"] = string.Join("; ", outcome.Problems).ReplaceLineEndings(" ");
        }
        catch (FormationException e)
        {
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, e.Id, e.Message);
        }
        return Results.Json(Formation(app, db, formation));
    }

    internal static async Task<IResult> ListDynosAsync(HttpContext context, IStateStore db, InstanceManager instances, CancellationToken ct)
    {
        var app = HerokuEndpoints.Name(context);
        var releases = db.ListReleases(app, limit: int.MaxValue).ToDictionary(r => r.Version);
        var current = releases.Count > 0 ? releases.Keys.Max() : 0;
        var list = (await instances.ListAsync(app, ct)).OrderBy(i => i.Process, StringComparer.Ordinal).ThenBy(i => i.Index).ThenBy(i => i.Release);
        return Results.Json(list.Select(i => HerokuShapes.Dyno(i, DynoState(i, current),
            releases.TryGetValue(i.Release, out var r) ? r.ProcessTypes.GetValueOrDefault(i.Process) : null)));
    }

    /// <summary>
    /// `heroku ps:restart [web.2 | -p web]`: DELETE /dynos/NAME, /formations/TYPE or /dynos (all), over the same
    /// <see cref="InstanceCommands"/> as `paas ps:restart`; Heroku answers 202 with an empty object.
    /// </summary>
    internal static async Task<IResult> RestartAsync(HttpContext context, string? name, InstanceCommands commands, CancellationToken ct)
    {
        try
        {
            await commands.RestartAsync(HerokuEndpoints.Name(context), name, HerokuEndpoints.User(context), ct);
            return Results.Json(new { }, statusCode: StatusCodes.Status202Accepted);
        }
        catch (InstanceCommandException e)
        {
            return ApiError.Result(e.Status, e.Id, e.Message);
        }
    }

    /// <summary>`heroku ps:stop web.2`: POST /dynos/NAME/actions/stop; the formation is unchanged, so a replacement starts, as on Heroku.</summary>
    internal static async Task<IResult> StopAsync(HttpContext context, string dyno, InstanceCommands commands, CancellationToken ct)
    {
        try
        {
            await commands.StopAsync(HerokuEndpoints.Name(context), dyno, HerokuEndpoints.User(context), ct);
            return Results.Json(new { }, statusCode: StatusCodes.Status202Accepted);
        }
        catch (InstanceCommandException e)
        {
            return ApiError.Result(e.Status, e.Id, e.Message);
        }
    }

    /// <summary>Heroku's dyno states: up, crashed, and down for an instance of an older release on its way out.</summary>
    internal static string DynoState(InstanceState instance, int currentRelease) =>
        !instance.Running ? "crashed" : instance.Release != currentRelease ? "down" : "up";
}
