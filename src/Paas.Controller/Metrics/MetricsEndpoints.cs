using System.Globalization;
using Paas.Controller.Api;
using Paas.Controller.State;
using Paas.Core.Metrics;

namespace Paas.Controller.Metrics;

/// <summary>`GET /v1/apps/{name}/metrics`: the app's recent traffic and resource use from <see cref="MetricsHistory"/>.</summary>
public static class MetricsEndpoints
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(5);

    public static void MapMetricsApi(this IEndpointRouteBuilder api) =>
        api.MapGet("/apps/{name}/metrics", Get)
            .WithName("appMetrics")
            .WithSummary("The app's requests, latency percentiles and CPU/memory per process type since a time (`since`: ISO 8601, or an age such as 15m, 2h; default 5m; up to 24h)");

    private static IResult Get(string name, string? since, IStateStore db, MetricsHistory history)
    {
        if (db.FindApp(name) is null)
            return AppsEndpoints.NotFound(name);
        var now = history.Time.GetUtcNow();
        if (ParseSince(since, now) is not { } from)
            return ApiError.Result(StatusCodes.Status422UnprocessableEntity, "invalid_since",
                $"since must be a time (2026-01-31T10:00:00Z) or an age such as 15m or 2h, not '{since}'.");
        var window = history.Query(name, from);
        return Results.Json(Describe(name, from, now, window));
    }

    /// <summary>An ISO 8601 time, or an age (`90s`, `15m`, `2h`, `1d`) before now; null when neither.</summary>
    public static DateTimeOffset? ParseSince(string? text, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text))
            return now - DefaultWindow;
        text = text.Trim();
        if (text.Length >= 2 && char.IsAsciiLetter(text[^1])
            && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            TimeSpan? age = char.ToLowerInvariant(text[^1]) switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                _ => null,
            };
            return age is { } a && a <= MetricsHistory.CoarseSpan ? now - a : null;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at <= now ? at : null;
    }

    public static object Describe(string app, DateTimeOffset since, DateTimeOffset now, MetricsWindow window)
    {
        var seconds = Math.Max(1, (now - since).TotalSeconds);
        var allStatus = new Dictionary<int, long>();
        var allBuckets = new long[LatencyBuckets.Count];
        foreach (var point in window.Points)
        {
            foreach (var (status, count) in point.ByStatus)
                allStatus[status] = allStatus.GetValueOrDefault(status) + count;
            for (var i = 0; i < allBuckets.Length; i++)
                allBuckets[i] += point.Buckets[i];
        }
        var requests = allStatus.Values.Sum();
        var latestUsage = window.Points.LastOrDefault(p => p.Usage.Count > 0)?.Usage;
        // Nothing to show is said as null, not as zeros a reader might take for a measurement.
        object? summary = requests == 0 && latestUsage is null ? null : new
        {
            window_seconds = Math.Round(seconds),
            requests,
            requests_per_second = Math.Round(requests / seconds, 3),
            p50_ms = Ms(LatencyBuckets.Quantile(allBuckets, 0.5)),
            p95_ms = Ms(LatencyBuckets.Quantile(allBuckets, 0.95)),
            p99_ms = Ms(LatencyBuckets.Quantile(allBuckets, 0.99)),
            error_rate_5xx = requests == 0 ? (double?)null : Math.Round((double)allStatus.Where(s => s.Key >= 500).Sum(s => s.Value) / requests, 4),
            by_status = ByClass(allStatus),
            processes = latestUsage is null ? null : Processes(latestUsage),
        };
        return new
        {
            app,
            since,
            resolution_seconds = (int)window.Step.TotalSeconds,
            summary,
            points = window.Points.Select(p => new
            {
                at = p.Start,
                requests = p.Requests,
                requests_per_second = Math.Round(p.Requests / window.Step.TotalSeconds, 3),
                by_status = ByClass(p.ByStatus),
                p50_ms = Ms(LatencyBuckets.Quantile(p.Buckets, 0.5)),
                p95_ms = Ms(LatencyBuckets.Quantile(p.Buckets, 0.95)),
                p99_ms = Ms(LatencyBuckets.Quantile(p.Buckets, 0.99)),
                processes = Processes(p.Usage),
            }),
        };
    }

    private static double? Ms(double? seconds) => seconds is { } s ? Math.Round(s * 1000, 2) : null;

    private static Dictionary<string, long> ByClass(Dictionary<int, long> byStatus) =>
        byStatus.GroupBy(s => $"{s.Key / 100}xx").OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(s => s.Value));

    private static Dictionary<string, object> Processes(Dictionary<string, ProcessUsage> usage) =>
        usage.OrderBy(u => u.Key, StringComparer.Ordinal).ToDictionary(u => u.Key, u => (object)new
        {
            instances = u.Value.Instances,
            cpu_percent = Math.Round(u.Value.CpuPercent, 2),
            memory_bytes = u.Value.MemoryBytes,
        });
}
