using System.Text.Json;
using Paas.Controller.Auth;
using Paas.Controller.Operations;
using Paas.Controller.Releases;
using Paas.Controller.State;

namespace Paas.Controller.Api;

/// <summary>Config vars: read them; change them (a new release rolls out, as on Heroku).</summary>
public static class ConfigEndpoints
{
    public static void MapConfigApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/config", (string name, IStateStore db) => Results.Json(db.Config(name)));
        api.MapPatch("/apps/{name}/config", UpdateAsync);
    }

    private static async Task<IResult> UpdateAsync(string name, JsonElement body, HttpContext context, ReleaseService releases, ReleaseOutcomes outcomes, IStateStore db, CancellationToken ct)
    {
        if (ReadChanges(body) is not { } changes)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_body", "Send a JSON object of NAME: \"value\" (or NAME: null to unset).");
        if (ProgressStream.IsWanted(context) && db.FindApp(name) is not null)
        {
            var actor = Caller.Of(context).Name;
            return await ProgressStream.RunAsync(context, name, stopping =>
                outcomes.OfAsync(name, stopping, () => releases.SetConfigAsync(name, changes, actor, null, stopping)));
        }
        try
        {
            var release = await releases.SetConfigAsync(name, changes, Caller.Of(context).Name, null, ct);
            return Results.Json(new Paas.Core.Api.ConfigChangeResponse(db.Config(name), release.Version, release.HasBuild));
        }
        catch (ReleaseException e)
        {
            return ReleasesEndpoints.Problem(e);
        }
    }

    /// <summary>A JSON object of string or null values; null when the body is anything else.</summary>
    public static Dictionary<string, string?>? ReadChanges(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
            return null;
        var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var property in body.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String:
                    changes[property.Name] = property.Value.GetString();
                    break;
                case JsonValueKind.Null:
                    changes[property.Name] = null;
                    break;
                default:
                    return null;
            }
        }
        return changes;
    }
}
