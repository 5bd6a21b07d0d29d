using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Paas.Core.Metrics;
using Paas.Router.Table;

namespace Paas.Router.Observability;

/// <summary>
/// The router's Prometheus metrics, kept as plain interlocked counters (no metrics library on the request
/// path) and rendered in the text exposition format on the admin port's /metrics.
/// </summary>
public sealed class RouterMetrics
{
    private static readonly double[] Bounds = LatencyBuckets.BoundsSeconds;

    private readonly ConcurrentDictionary<(string App, int Status), StatusCounter> _requests = new();
    private readonly ConcurrentDictionary<string, LatencyHistogram> _latencyByApp = new(StringComparer.Ordinal);
    private readonly LatencyHistogram _latency = new();
    private readonly bool _perAppLatency;
    private long _openConnections;

    /// <param name="perAppLatency">Keep a latency histogram per app (PAAS_ROUTER_APP_LATENCY); off only to measure its cost.</param>
    public RouterMetrics(bool perAppLatency = true)
    {
        _perAppLatency = perAppLatency;
    }

    /// <summary>When this router started counting: the controller tells a restarted router's counts from a continued one's.</summary>
    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    public Counter Retries { get; } = new();

    public Counter CoolDowns { get; } = new();

    public Counter AccessLogDropped { get; } = new();

    public Counter AppLogDropped { get; } = new();

    /// <summary>Sends and receives the front end made in io_uring submissions of several at once rather than one system call each.</summary>
    public Counter BatchedIo { get; } = new();

    /// <summary>Connections the event-loop front end handed to Kestrel: what its own path does not take, and how often.</summary>
    public Counter HandedOver { get; } = new();

    /// <summary>ACME HTTP-01 challenges answered from Redis (certificates being issued for custom domains).</summary>
    public Counter AcmeChallengesAnswered { get; } = new();

    /// <summary>Custom domains' certificates loaded from Redis (set by <see cref="Paas.Router.Tls.PublishedCertificates"/>).</summary>
    public long PublishedCertificates { get; set; }

    public long OpenConnections => Volatile.Read(ref _openConnections);

    public void ConnectionOpened() => Interlocked.Increment(ref _openConnections);

    public void ConnectionClosed() => Interlocked.Decrement(ref _openConnections);

    /// <param name="pool">The app's pool, when one answered: it remembers the counter it last used, so the
    /// usual request skips the lookup in a dictionary of every app and status (with 100,000 apps, cache misses).</param>
    /// <param name="app">Null for requests no app claimed (404s); they are counted under app="".</param>
    public void Record(AppPool? pool, string? app, int status, TimeSpan duration)
    {
        var counter = pool?.LastStatusCounter is { } cached && cached.Status == status
            ? cached
            : CounterFor(pool, app, status);
        counter.Increment();
        // One histogram per request either way: with histograms per app, the router-wide one is their sum
        // (added up when /metrics is read), so keeping them per app costs no extra work per request. Same
        // trick as the counter: the pool keeps its app's histogram, so the usual request does no lookup.
        var histogram = _perAppLatency ? pool?.Latency ?? LatencyFor(pool, app) : _latency;
        histogram.Record(duration);
    }

    private LatencyHistogram LatencyFor(AppPool? pool, string? app)
    {
        var histogram = _latencyByApp.GetOrAdd(app ?? string.Empty, static _ => new LatencyHistogram());
        if (pool is not null)
        {
            pool.Latency = histogram;
        }

        return histogram;
    }

    /// <summary>Every app's counts so far (requests by status, durations by bucket), for the controller's history.</summary>
    public Dictionary<string, AppTraffic> TrafficByApp()
    {
        var byApp = new Dictionary<string, AppTraffic>(StringComparer.Ordinal);
        foreach (var ((app, status), counter) in _requests)
        {
            if (app.Length == 0)
            {
                continue;
            }

            if (!byApp.TryGetValue(app, out var traffic))
            {
                var buckets = _latencyByApp.TryGetValue(app, out var histogram) ? histogram.Snapshot() : new long[LatencyBuckets.Count];
                byApp[app] = traffic = new AppTraffic(Started, [], buckets);
            }

            traffic.ByStatus[status] = counter.Value;
        }

        return byApp;
    }

    private StatusCounter CounterFor(AppPool? pool, string? app, int status)
    {
        var counter = _requests.GetOrAdd((app ?? string.Empty, status), static key => new StatusCounter(key.Status));
        if (pool is not null)
        {
            pool.LastStatusCounter = counter;
        }

        return counter;
    }

    public string Render(RouteTable table, TimeSpan? sinceLastSync)
    {
        var text = new StringBuilder(4096);
        Header(text, "paas_router_requests_total", "counter", "Requests answered, by app and status code.");
        foreach (var ((app, status), counter) in _requests.OrderBy(r => r.Key.App, StringComparer.Ordinal).ThenBy(r => r.Key.Status))
        {
            text.Append("paas_router_requests_total{app=\"").Append(Escape(app)).Append("\",code=\"")
                .Append(status.ToString(CultureInfo.InvariantCulture)).Append("\"} ").Append(counter.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        Header(text, "paas_router_request_duration_seconds", "histogram", "Time from request received to response complete.");
        Histogram(text, "paas_router_request_duration_seconds", string.Empty, _perAppLatency ? Sum(_latencyByApp.Values) : _latency);
        if (_perAppLatency)
        {
            Header(text, "paas_router_app_request_duration_seconds", "histogram", "Time from request received to response complete, by app.");
            foreach (var (app, histogram) in _latencyByApp.OrderBy(h => h.Key, StringComparer.Ordinal))
            {
                Histogram(text, "paas_router_app_request_duration_seconds", "app=\"" + Escape(app) + "\",", histogram);
            }
        }

        Gauge(text, "paas_router_open_connections", "Client connections open on the public and TLS ports.", OpenConnections);
        Gauge(text, "paas_router_table_hosts", "Hostnames in the route table.", table.Hosts.Count);
        Gauge(text, "paas_router_table_routes", "Instances in the route table.", table.Instances.Count);
        Gauge(text, "paas_router_table_dead_cells", "Cells whose heartbeat lapsed.", table.DeadCells.Count);
        Gauge(text, "paas_router_table_version", "Local version of the route table snapshot.", table.Version);
        Header(text, "paas_router_redis_last_sync_seconds", "gauge", "Seconds since the router last read the table or heartbeats from Redis (-1: never).");
        Line(text, "paas_router_redis_last_sync_seconds", (sinceLastSync?.TotalSeconds ?? -1).ToString("0.###", CultureInfo.InvariantCulture));
        CounterLine(text, "paas_router_retries_total", "Requests retried on another instance.", Retries.Value);
        CounterLine(text, "paas_router_endpoint_cooldowns_total", "Instances put in cool-down after refusing a connection.", CoolDowns.Value);
        CounterLine(text, "paas_router_access_log_dropped_total", "Access-log lines dropped because the writer fell behind.", AccessLogDropped.Value);
        CounterLine(text, "paas_router_app_log_dropped_total", "Router lines for apps' logs dropped because Redis was slow or away.", AppLogDropped.Value);
        CounterLine(text, "paas_router_batched_io_total", "Sends and receives made several to a system call (io_uring) rather than one each.", BatchedIo.Value);
        CounterLine(text, "paas_router_acme_challenges_answered_total", "ACME HTTP-01 challenges answered for custom domains' certificates.", AcmeChallengesAnswered.Value);
        Gauge(text, "paas_router_published_certificates", "Custom domains' certificates loaded from Redis and served by SNI.", PublishedCertificates);
        CounterLine(text, "paas_router_front_end_handed_over_total", "Connections the event-loop front end handed to Kestrel's general path.", HandedOver.Value);
        return text.ToString();
    }

    private static LatencyHistogram Sum(IEnumerable<LatencyHistogram> histograms)
    {
        var sum = new LatencyHistogram();
        foreach (var histogram in histograms)
        {
            sum.Add(histogram);
        }

        return sum;
    }

    private static void Histogram(StringBuilder text, string name, string labels, LatencyHistogram histogram)
    {
        var counts = histogram.Snapshot();
        long cumulative = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            cumulative += counts[i];
            var le = i < Bounds.Length ? Bounds[i].ToString("R", CultureInfo.InvariantCulture) : "+Inf";
            text.Append(name).Append("_bucket{").Append(labels).Append("le=\"").Append(le).Append("\"} ")
                .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        var suffix = labels.Length == 0 ? string.Empty : "{" + labels.TrimEnd(',') + "}";
        text.Append(name).Append("_sum").Append(suffix).Append(' ').Append(histogram.Sum.TotalSeconds.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        text.Append(name).Append("_count").Append(suffix).Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Line(StringBuilder text, string name, string value) => text.Append(name).Append(' ').Append(value).Append('\n');

    private static void Gauge(StringBuilder text, string name, string help, long value)
    {
        Header(text, name, "gauge", help);
        Line(text, name, value.ToString(CultureInfo.InvariantCulture));
    }

    private static void CounterLine(StringBuilder text, string name, string help, long value)
    {
        Header(text, name, "counter", help);
        Line(text, name, value.ToString(CultureInfo.InvariantCulture));
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
