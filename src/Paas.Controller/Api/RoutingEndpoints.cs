using System.Text.Json;
using Paas.Controller.Routing;
using Paas.Controller.State;
using Paas.Core.Routing;

namespace Paas.Controller.Api;

/// <summary>
/// An app's routing options (`paas routes`, `paas routes:set`, `paas maintenance:*`): stored with the app,
/// then published to the routers (<see cref="RoutePublisher.SetAppOptionsAsync"/>); the converger publishes
/// them again when Redis lost them.
/// </summary>
public static class RoutingEndpoints
{
    /// <summary>How long a change waits for the routers to apply it, so `maintenance:off` means served again when the command returns.</summary>
    private static readonly TimeSpan ApplyWait = TimeSpan.FromSeconds(5);

    public static void MapRoutingApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/apps/{name}/routing", (string name, IStateStore db) =>
            db.FindApp(name) is null ? AppsEndpoints.NotFound(name) : Describe(name, db.RouteOptions(name)))
            .WithName("getRouting").WithSummary("The app's routing options: timeout, sticky cookie, balancing, maintenance");
        api.MapMethods("/apps/{name}/routing", ["PATCH"], PatchAsync)
            .WithName("setRouting").WithSummary("Change routing options: each field given is set (null: back to the default), others kept");
    }

    private static async Task<IResult> PatchAsync(string name, JsonElement body, IStateStore db, RoutePublisher routes, TimeProvider time,
        HttpContext context, CancellationToken ct)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        if (body.ValueKind != JsonValueKind.Object)
            return Invalid("Send a JSON object of routing options.");
        var current = db.RouteOptions(name);
        var options = current;
        foreach (var field in body.EnumerateObject())
        {
            var value = field.Value;
            var isNull = value.ValueKind == JsonValueKind.Null;
            switch (field.Name)
            {
                case "timeout_seconds" when isNull || value.ValueKind == JsonValueKind.Number:
                    options = options with { TimeoutSeconds = isNull ? null : value.GetDouble() };
                    break;
                case "sticky_cookie" when isNull || value.ValueKind == JsonValueKind.String:
                    options = options with { StickyCookie = isNull ? null : value.GetString() };
                    break;
                case "balancing" when isNull || value.ValueKind == JsonValueKind.String:
                    options = options with { Balancing = isNull ? null : value.GetString() };
                    break;
                case "maintenance" when value.ValueKind is JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null:
                    // Off is stored as absent, so an app never in maintenance and one taken out of it look the same.
                    options = options with { Maintenance = value.ValueKind == JsonValueKind.True ? true : null };
                    break;
                case "https_redirect" when value.ValueKind is JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null:
                    options = options with { HttpsRedirect = value.ValueKind == JsonValueKind.True ? true : null };
                    break;
                case "timeout_seconds" or "sticky_cookie" or "balancing" or "maintenance" or "https_redirect":
                    return Invalid($"'{field.Name}' has a value of the wrong type ({value.ValueKind}).");
                default:
                    return Invalid($"'{field.Name}' is not a routing option (timeout_seconds, sticky_cookie, balancing, maintenance, https_redirect).");
            }
        }
        if (options.Problem() is { } problem)
            return Invalid(problem);
        await ApplyAsync(name, current, options, db, routes, time, ProcessEndpoints.Actor(context), ct);
        return Describe(name, options);
    }

    /// <summary>Stores and publishes changed routing options (this API and Heroku's maintenance), waiting briefly for the routers.</summary>
    internal static async Task ApplyAsync(string name, AppRouteOptions current, AppRouteOptions options, IStateStore db, RoutePublisher routes,
        TimeProvider time, string actor, CancellationToken ct)
    {
        if (options == current)
            return;
        db.SetRouteOptions(name, options);
        var version = await routes.SetAppOptionsAsync(name, options);
        // Not applied in time (no router live, one slow): stored and published all the same; the routers catch up.
        await routes.WaitAppliedAsync(version, ApplyWait, time, ct);
        db.AddEvent(name, actor, options.Maintenance != current.Maintenance ? "maintenance" : "routing",
            options.Maintenance != current.Maintenance
                ? $"Maintenance mode {(options.Maintenance == true ? "on" : "off")}"
                : options.HttpsRedirect != current.HttpsRedirect
                    ? $"HTTP to HTTPS redirect {(options.HttpsRedirect == true ? "on" : "off")}"
                    : $"Routing options: {Summary(options)}");
    }

    private static string Summary(AppRouteOptions o) =>
        $"timeout {(o.TimeoutSeconds is { } t ? $"{t}s" : "default")}, sticky cookie {o.StickyCookie ?? "none"}, balancing {o.Balancing ?? AppRouteOptions.RoundRobin}";

    private static IResult Describe(string app, AppRouteOptions options) => Results.Json(new
    {
        app,
        timeout_seconds = options.TimeoutSeconds,
        sticky_cookie = options.StickyCookie,
        balancing = options.Balancing ?? AppRouteOptions.RoundRobin,
        maintenance = options.Maintenance == true,
        https_redirect = options.HttpsRedirect == true,
    });

    private static IResult Invalid(string message) =>
        ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_routing", message);
}
