using Paas.Controller.Api;
using Paas.Controller.Auth;
using Paas.Controller.State;
using Paas.Staging;

namespace Paas.Controller.Heroku;

/// <summary>Heroku buildpack installations over the app's buildpack list (the same list `paas buildpacks` shows and sets).</summary>
public static class HerokuBuildpacks
{
    public sealed record Update(string? Buildpack);

    public sealed record Updates([property: System.Text.Json.Serialization.JsonPropertyName("updates")] List<Update>? Items);

    internal static IResult List(HttpContext context, IStateStore db) => Results.Json(Installations(db, HerokuEndpoints.Name(context)));

    internal static IResult Set(HttpContext context, Updates? body, IStateStore db, StagingOptions staging)
    {
        var app = HerokuEndpoints.Name(context);
        var list = new List<string>();
        foreach (var update in body?.Items ?? [])
        {
            if (BuildpacksEndpoints.Validate(update.Buildpack, staging, Caller.Of(context)) is { } problem)
                return problem;
            var text = update.Buildpack!.Trim();
            if (!list.Contains(text))
                list.Add(text);
        }
        db.SetBuildpacks(app, list);
        return Results.Json(Installations(db, app));
    }

    private static IEnumerable<object> Installations(IStateStore db, string app) =>
        db.Buildpacks(app).Select((url, index) => new { ordinal = index, buildpack = new { url, name = url } });
}
