using Paas.Core.Api;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Paas.Cli.Commands;

public static partial class ProcessCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("ps", "list an app's instances", "paas ps [-a APP] [--json]", PsAsync)
        {
            Options = Opt.AppScoped(Opt.Json),
        },
        new("ps:scale", "scale process types (Heroku syntax: web=3 worker=1, web=2:256M)", "paas ps:scale TYPE=QTY[:SIZE]... [-a APP] [--no-wait] [--json]", ScaleAsync)
        {
            Arguments = [new("TYPE=QTY[:SIZE]", "a process type, its instance count and optional memory size", Many: true)],
            Options = Opt.AppScoped(Opt.NoWait, Opt.Json),
        },
        new("ps:restart", "restart instances one at a time (all, one process type, or one instance: web.2)", "paas ps:restart [TYPE | TYPE.N] [-a APP] [--no-wait] [--json]", RestartAsync)
        {
            Arguments = [new("TYPE", "the process type, or one instance as TYPE.N (default: all)")],
            Options = Opt.AppScoped(Opt.NoWait, Opt.Json),
        },
        new("ps:stop", "stop one instance (web.2: the platform starts a replacement), or a whole process type (scale to zero)", "paas ps:stop (TYPE | TYPE.N) [-a APP] [--json]", StopAsync)
        {
            Arguments = [new("TYPE", "the process type (scaled to zero), or one instance as TYPE.N")],
            Options = Opt.AppScoped(Opt.Json),
        },
        new("healthcheck:set", "set how a process type is health-checked: --http PATH, or --port", "paas healthcheck:set TYPE (--http PATH | --port) [--timeout S] [--interval S] [--grace S] [-a APP] [--json]", HealthCheckAsync)
        {
            Arguments = [new("TYPE", "the process type")],
            Options = Opt.AppScoped(
                new CliOption("http", "PATH", "check with an HTTP GET of this path"),
                new CliOption("port", null, "check that the port accepts connections"),
                new CliOption("timeout", "S", "seconds a check may take"),
                new CliOption("interval", "S", "seconds between checks"),
                new CliOption("grace", "S", "seconds after start before checks count"),
                Opt.Json),
        },
        new("events", "list an app's events: deploys, scaling, crashes", "paas events [-a APP] [-n NUM] [--json]", EventsAsync)
        {
            Options = Opt.AppScoped(Opt.Num, Opt.Json),
        },
        new("cells", "list cells (operators)", "paas cells [--json]", CellsAsync)
        {
            Options = [Opt.Json],
        },
    ];

    [GeneratedRegex("^([a-zA-Z0-9_-]+)=([0-9]+)?(?::([0-9]+[MGmg]B?))?$")]
    private static partial Regex ScaleArgument();

    private static string AppPath(CliContext cli, ParsedArgs args) => $"v1/apps/{Uri.EscapeDataString(cli.ResolveApp(args))}";

    private static async Task<int> PsAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var instances = await cli.Api.GetAsync<List<InstanceResponse>>($"v1/apps/{Uri.EscapeDataString(app)}/ps");
        if (args.Json)
        {
            cli.WriteJson(instances);
            return 0;
        }
        if (instances.Count == 0)
        {
            cli.Out.WriteLine($"{app} has no instances. Deploy with `git push paas main`, or scale with `paas ps:scale web=1`.");
            return 0;
        }
        cli.Out.WriteLine($"=== {app} instances");
        cli.Out.WriteLine($"{"ID",-10} {"RELEASE",-8} {"STATE",-9} {"CELL",-10} {"SINCE",-20} {"RESTARTS",-9} {"CPU",-24} MEMORY");
        foreach (var i in instances)
        {
            var memory = $"{Mb(i.MemoryUsedBytes)}/{Mb(i.MemoryLimitBytes)} MB";
            // CPU shares (1024 = one core's weight under contention), and the hard cap in cores when the instance's cell sets one.
            var cpu = i.CpuCores is { } cores
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{i.CpuShares} shares, max {cores:0.##} cpu")
                : $"{i.CpuShares} shares";
            var crashNote = i.LastCrash is { } crash
                ? $"  last crash: exit {crash.ExitCode}{(crash.OomKilled ? " (out of memory)" : "")}"
                : "";
            cli.Out.WriteLine($"{i.Id,-10} v{i.Release,-7} {i.State,-9} {i.Cell,-10} {i.Since:yyyy-MM-dd HH:mm:ss}  {i.Restarts,-9} {cpu,-24} {memory}{crashNote}");
        }
        return 0;
    }

    private static long Mb(long bytes) => bytes / (1024 * 1024);

    private static async Task<int> ScaleAsync(ParsedArgs args, CliContext cli)
    {
        if (args.Positionals.Count == 0)
            throw new CliException("Say what to scale, e.g. `paas ps:scale web=3`.", 2);
        var updates = args.Positionals.Select(p =>
        {
            var m = ScaleArgument().Match(p);
            if (!m.Success || (!m.Groups[2].Success && !m.Groups[3].Success))
                throw new CliException($"'{p}' is not of the form TYPE=QUANTITY[:SIZE], e.g. web=3 or web=2:256M.", 2);
            return new
            {
                process = m.Groups[1].Value,
                quantity = m.Groups[2].Success ? int.Parse(m.Groups[2].Value) : (int?)null,
                size = m.Groups[3].Success ? m.Groups[3].Value : null,
            };
        }).ToList();
        // Instances turning healthy (or stopping) are shown as the cells report them; the summary says how many run.
        return await OperationProgressView.FollowAsync(cli, args, HttpMethod.Patch, $"{AppPath(cli, args)}/formation", new { updates },
            $"Scaling {string.Join(", ", args.Positionals)} on {cli.ResolveApp(args)}", outcome => outcome.Summary);
    }

    private static async Task<int> StopAsync(ParsedArgs args, CliContext cli)
    {
        var process = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which process type to stop, e.g. `paas ps:stop worker`.", 2);
        if (InstanceName().IsMatch(process))
            return await StopInstanceAsync(args, cli, process);
        cli.Out.WriteLine($"Stopping {process}...");
        return await ReportScaleAsync(cli, args, await cli.Api.PatchAsync($"{AppPath(cli, args)}/formation", new { updates = new[] { new { process, quantity = 0 } } }));
    }

    [GeneratedRegex("^[a-zA-Z0-9_-]+\\.[0-9]+$")]
    private static partial Regex InstanceName();

    /// <summary>As on Heroku: the instance stops, the formation does not change, so a replacement starts — say so.</summary>
    private static async Task<int> StopInstanceAsync(ParsedArgs args, CliContext cli, string instance)
    {
        var app = cli.ResolveApp(args);
        if (!args.Json)
            cli.Out.Write($"Stopping {instance} on {app}... ");
        var result = await cli.Api.PostAsync($"v1/apps/{Uri.EscapeDataString(app)}/ps/stop?process={Uri.EscapeDataString(instance)}", new { });
        if (args.Json)
        {
            cli.WriteJson(result);
            return 0;
        }
        var type = instance[..instance.LastIndexOf('.')];
        cli.Out.WriteLine("done");
        cli.Out.WriteLine($"The formation is unchanged, so the platform starts a replacement for {instance}. To keep it stopped, scale down: `paas ps:scale {type}=N`.");
        return 0;
    }

    private static Task<int> ReportScaleAsync(CliContext cli, ParsedArgs args, JsonElement result)
    {
        if (args.Json)
        {
            cli.WriteJson(result);
            return Task.FromResult(result.GetProperty("problems").GetArrayLength() == 0 ? 0 : 1);
        }
        foreach (var f in result.GetProperty("formation").EnumerateArray())
            cli.Out.WriteLine($"       {f.GetProperty("process").GetString()}: {f.GetProperty("quantity").GetInt32()} x {f.GetProperty("memory_mb").GetInt64()}M");
        cli.Out.WriteLine($"       started {result.GetProperty("started").GetInt32()}, stopped {result.GetProperty("stopped").GetInt32()}");
        var problems = result.GetProperty("problems").EnumerateArray().Select(p => p.GetString()).ToList();
        if (problems.Count == 0)
        {
            cli.Out.WriteLine("done");
            return Task.FromResult(0);
        }
        foreach (var problem in problems)
            Console.Error.WriteLine($" !    {problem}.");
        return Task.FromResult(1);
    }

    private static async Task<int> RestartAsync(ParsedArgs args, CliContext cli)
    {
        var process = args.Positionals.FirstOrDefault();
        var query = process is null ? "" : $"?process={Uri.EscapeDataString(process)}";
        return await OperationProgressView.FollowAsync(cli, args, HttpMethod.Post, $"{AppPath(cli, args)}/ps/restart{query}", new { },
            $"Restarting {process ?? "all processes"} of {cli.ResolveApp(args)} one at a time",
            outcome => $"done, {outcome.Restarted} restarted: {OperationProgressView.Health(outcome)}");
    }

    private static async Task<int> HealthCheckAsync(ParsedArgs args, CliContext cli)
    {
        var process = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which process type, e.g. `paas healthcheck:set web --http /healthz`.", 2);
        var path = args.Get("http");
        if (path is null && !args.Has("port"))
            throw new CliException("Choose a check: --http PATH or --port.", 2);
        int? Seconds(string name) => args.Get(name) is { } v ? (int.TryParse(v, out var n) && n > 0 ? n : throw new CliException($"--{name} must be a positive number of seconds.", 2)) : null;
        var spec = await cli.Api.PutAsync($"{AppPath(cli, args)}/healthchecks/{Uri.EscapeDataString(process)}", new
        {
            type = path is null ? "port" : "http",
            path,
            timeoutSeconds = Seconds("timeout"),
            intervalSeconds = Seconds("interval"),
            graceSeconds = Seconds("grace"),
        });
        if (args.Json)
            cli.WriteJson(spec);
        else
            cli.Out.WriteLine($"Health check for {process}: {(path is null ? "TCP connect to $PORT" : "GET " + path)}, timeout {spec.GetProperty("timeout_seconds").GetInt32()} s, grace {spec.GetProperty("grace_seconds").GetInt32()} s");
        return 0;
    }

    private static async Task<int> EventsAsync(ParsedArgs args, CliContext cli)
    {
        var limit = args.Get("num") ?? "100";
        var events = await cli.Api.GetAsync($"{AppPath(cli, args)}/events?limit={Uri.EscapeDataString(limit)}");
        if (args.Json)
        {
            cli.WriteJson(events);
            return 0;
        }
        foreach (var e in events.EnumerateArray())
            cli.Out.WriteLine($"{e.GetProperty("at").GetDateTimeOffset():yyyy-MM-dd HH:mm:ss} {e.GetProperty("actor").GetString(),-10} {e.GetProperty("kind").GetString(),-12} {e.GetProperty("message").GetString()}");
        return 0;
    }

    private static async Task<int> CellsAsync(ParsedArgs args, CliContext cli)
    {
        var cells = await cli.Api.GetAsync("v1/cells");
        if (args.Json)
        {
            cli.WriteJson(cells);
            return 0;
        }
        cli.Out.WriteLine($"{"NAME",-12} {"ZONE",-10} {"ADDRESS",-15} {"STATE",-6} {"MEMORY",-10} {"RESERVED",-10} {"INSTANCES",-10} {"IMAGES",-7} {"PULL FAILURES",-14} {"LAST HEARTBEAT",-14} STACK");
        foreach (var c in cells.EnumerateArray())
        {
            // A controller older than these fields leaves them out; show what is there.
            var address = c.TryGetProperty("address", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : "-";
            var images = c.TryGetProperty("images", out var i) && i.ValueKind == JsonValueKind.Number ? i.GetInt32().ToString() : "-";
            var failures = c.TryGetProperty("pull_failures", out var f) && f.ValueKind == JsonValueKind.Number ? f.GetInt64().ToString() : "-";
            // Last: a failure's reason may be long.
            var stack = c.TryGetProperty("stack", out var st) && st.ValueKind == JsonValueKind.String ? st.GetString() : "-";
            cli.Out.WriteLine($"{c.GetProperty("name").GetString(),-12} {c.GetProperty("zone").GetString(),-10} {address,-15} {c.GetProperty("state").GetString(),-6} {Mb(c.GetProperty("memory_bytes").GetInt64()) + "M",-10} {Mb(c.GetProperty("reserved_bytes").GetInt64()) + "M",-10} {c.GetProperty("instances").GetInt32() + "/" + c.GetProperty("max_instances").GetInt32(),-10} {images,-7} {failures,-14} {c.GetProperty("last_heartbeat").GetDateTimeOffset(),-14:HH:mm:ss} {stack}");
        }
        return 0;
    }
}
