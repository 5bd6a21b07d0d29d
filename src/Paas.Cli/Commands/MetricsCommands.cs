using System.Globalization;
using System.Text.Json;

namespace Paas.Cli.Commands;

/// <summary>`paas metrics`: the app's recent requests, latency and resource use, from the controller's history.</summary>
public static class MetricsCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("metrics", "the app's req/s, p50/p99 latency, 5xx rate, and memory and CPU per process type",
            "paas metrics [-a APP] [--since 5m|2h|2026-01-31T10:00:00Z] [--json]", ShowAsync) { Options = Opt.AppScoped(new CliOption("since", "WHEN", "the window: 5m, 2h, or a UTC time (default: 5m)"), Opt.Json) },
    ];

    private static async Task<int> ShowAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var since = args.Get("since") ?? "5m";
        var metrics = await cli.Api.GetAsync($"v1/apps/{Uri.EscapeDataString(app)}/metrics?since={Uri.EscapeDataString(since)}");
        if (args.Json)
        {
            cli.WriteJson(metrics);
            return 0;
        }
        if (metrics.GetProperty("summary") is not { ValueKind: JsonValueKind.Object } summary)
        {
            cli.Out.WriteLine($"{app}: no traffic yet in the last {since} (and no instance samples). Numbers appear within 10 s of the first requests.");
            return 0;
        }
        cli.WriteHeading($"{app} Metrics (last {since})");
        var requests = summary.GetProperty("requests").GetInt64();
        if (requests == 0)
        {
            cli.Out.WriteLine("requests:  no traffic yet");
        }
        else
        {
            cli.Out.WriteLine($"requests:  {summary.GetProperty("requests_per_second").GetDouble().ToString("0.###", CultureInfo.InvariantCulture)} req/s ({requests} in {summary.GetProperty("window_seconds").GetDouble():0} s)");
            cli.Out.WriteLine($"latency:   p50 {Ms(summary.GetProperty("p50_ms"))}  p99 {Ms(summary.GetProperty("p99_ms"))}");
            cli.Out.WriteLine($"5xx rate:  {(summary.GetProperty("error_rate_5xx").GetDouble() * 100).ToString("0.##", CultureInfo.InvariantCulture)}%");
        }
        if (summary.GetProperty("processes") is { ValueKind: JsonValueKind.Object } processes)
        {
            cli.Out.WriteLine();
            cli.Out.WriteLine($"{"process",-12} {"instances",9} {"cpu",8} {"memory",10}");
            foreach (var process in processes.EnumerateObject())
            {
                var p = process.Value;
                cli.Out.WriteLine($"{process.Name,-12} {p.GetProperty("instances").GetInt32(),9} {p.GetProperty("cpu_percent").GetDouble().ToString("0.0", CultureInfo.InvariantCulture) + "%",8} {Mb(p.GetProperty("memory_bytes").GetInt64()),10}");
            }
        }
        else
        {
            cli.Out.WriteLine("processes: no samples yet");
        }
        return 0;
    }

    private static string Ms(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("0.##", CultureInfo.InvariantCulture) + " ms" : "-";

    private static string Mb(long bytes) => (bytes / 1024.0 / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB";
}
