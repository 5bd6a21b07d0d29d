using System.Globalization;
using System.Text.Json;
using Paas.Core.Routing;

namespace Paas.Cli.Commands;

/// <summary>`paas routes[:set]` (the router's per-app options) and `paas maintenance[:on|:off]`, as in Heroku's CLI.</summary>
public static class RoutingCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("routes", "show the app's routing options (timeout, sticky cookie, balancing, maintenance)", "paas routes [-a APP] [--json]", ShowAsync) { Options = Opt.AppScoped(Opt.Json) },
        new("routes:set", "set the router's timeout, sticky-session cookie or balancing for the app",
            "paas routes:set [--timeout SECONDS] [--sticky-cookie NAME | --no-sticky-cookie] [--balancing round-robin|least-requests] [-a APP] [--json]", SetAsync) { Options = Opt.AppScoped(new CliOption("timeout", "SECONDS", "how long the router waits for the app (1 to 3600)"), new CliOption("sticky-cookie", "NAME", "pin each client to one instance with this cookie"), new CliOption("no-sticky-cookie", null, "stop pinning clients"), new CliOption("balancing", "round-robin|least-requests", "how requests are spread over instances"), Opt.Json) },
        new("maintenance", "say whether the app is in maintenance mode", "paas maintenance [-a APP] [--json]", MaintenanceAsync) { Options = Opt.AppScoped(Opt.Json) },
        new("maintenance:on", "serve a maintenance page (503, Retry-After) for every request; the app keeps running", "paas maintenance:on [-a APP]",
            (args, cli) => SwitchAsync(args, cli, on: true)) { Options = Opt.AppScoped() },
        new("maintenance:off", "serve the app again", "paas maintenance:off [-a APP]", (args, cli) => SwitchAsync(args, cli, on: false)) { Options = Opt.AppScoped() },
    ];

    private static string PathOf(string app) => $"v1/apps/{Uri.EscapeDataString(app)}/routing";

    private static async Task<int> ShowAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        Print(cli, args, await cli.Api.GetAsync(PathOf(app)));
        return 0;
    }

    private static async Task<int> SetAsync(ParsedArgs args, CliContext cli)
    {
        var change = Change(args);
        var app = cli.ResolveApp(args);
        Print(cli, args, await cli.Api.PatchAsync(PathOf(app), change));
        return 0;
    }

    /// <summary>The options named on the command line, checked here by the same rule the API applies, so a typo costs no call.</summary>
    private static Dictionary<string, object?> Change(ParsedArgs args)
    {
        var change = new Dictionary<string, object?>();
        var options = AppRouteOptions.None;
        if (args.Get("timeout") is { } text)
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
                throw new CliException($"--timeout takes a number of seconds (1 to {AppRouteOptions.MaxTimeoutSeconds}), not '{text}'.", 2);
            options = options with { TimeoutSeconds = seconds };
            change["timeout_seconds"] = seconds;
        }
        if (args.Has("sticky-cookie") && args.Has("no-sticky-cookie"))
            throw new CliException("Give --sticky-cookie NAME or --no-sticky-cookie, not both.", 2);
        if (args.Get("sticky-cookie") is { } cookie)
        {
            options = options with { StickyCookie = cookie };
            change["sticky_cookie"] = cookie;
        }
        if (args.Has("no-sticky-cookie"))
            change["sticky_cookie"] = null;
        if (args.Get("balancing") is { } balancing)
        {
            options = options with { Balancing = balancing };
            change["balancing"] = balancing;
        }
        if (options.Problem() is { } problem)
            throw new CliException(problem, 2);
        if (change.Count == 0)
            throw new CliException("Say what to set: --timeout SECONDS, --sticky-cookie NAME, --no-sticky-cookie or --balancing POLICY.", 2);
        return change;
    }

    private static async Task<int> MaintenanceAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var routing = await cli.Api.GetAsync(PathOf(app));
        if (args.Json)
        {
            cli.WriteJson(JsonSerializer.SerializeToElement(new { app, maintenance = routing.GetProperty("maintenance").GetBoolean() }));
            return 0;
        }
        cli.Out.WriteLine(routing.GetProperty("maintenance").GetBoolean() ? "on" : "off");
        return 0;
    }

    private static async Task<int> SwitchAsync(ParsedArgs args, CliContext cli, bool on)
    {
        var app = cli.ResolveApp(args);
        var routing = await cli.Api.PatchAsync(PathOf(app), new Dictionary<string, object?> { ["maintenance"] = on });
        if (args.Json)
        {
            cli.WriteJson(routing);
            return 0;
        }
        cli.Out.WriteLine(on
            ? $"Maintenance mode on for {app}: every request gets a 503 maintenance page; its instances keep running."
            : $"Maintenance mode off for {app}: it is served again.");
        return 0;
    }

    private static void Print(CliContext cli, ParsedArgs args, JsonElement routing)
    {
        if (args.Json)
        {
            cli.WriteJson(routing);
            return;
        }
        var timeout = routing.GetProperty("timeout_seconds");
        var cookie = routing.GetProperty("sticky_cookie");
        cli.Out.WriteLine($"=== {routing.GetProperty("app").GetString()} Routing");
        cli.Out.WriteLine($"Timeout:       {(timeout.ValueKind == JsonValueKind.Number ? $"{timeout.GetDouble().ToString(CultureInfo.InvariantCulture)} s" : "router default")}");
        cli.Out.WriteLine($"Sticky cookie: {(cookie.ValueKind == JsonValueKind.String ? cookie.GetString() : "none")}");
        cli.Out.WriteLine($"Balancing:     {routing.GetProperty("balancing").GetString()}");
        cli.Out.WriteLine($"Maintenance:   {(routing.GetProperty("maintenance").GetBoolean() ? "on" : "off")}");
    }
}
