namespace Paas.Core.Health;

/// <summary>
/// The /healthz answer of a process that depends on others: every check runs at once, each bounded by
/// the same short timeout, so a supervisor's probe costs at most that long even when a dependency hangs
/// (a Redis PING with no connection can otherwise wait for the client's own, much longer, timeout).
/// </summary>
public sealed class DependencyHealth(IReadOnlyList<DependencyCheck> checks, TimeSpan timeout, TimeProvider time)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(1);

    public DependencyHealth(IReadOnlyList<DependencyCheck> checks)
        : this(checks, DefaultTimeout, TimeProvider.System)
    {
    }

    public async Task<HealthReport> CheckAsync(CancellationToken cancellationToken)
    {
        var failures = await Task.WhenAll(checks.Select(check => FailureAsync(check, cancellationToken)));
        var failed = failures.OfType<string>().ToList();
        return failed.Count == 0
            ? new HealthReport(true, "ok")
            : new HealthReport(false, "unhealthy: " + string.Join("; ", failed));
    }

    /// <summary>Null when the dependency answered in time; otherwise "NAME: what went wrong", on one line.</summary>
    private async Task<string?> FailureAsync(DependencyCheck check, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            // WaitAsync bounds probes that ignore the token; the token stops those that honour it.
            await check.ProbeAsync(deadline.Token).WaitAsync(timeout, time, cancellationToken);
            return null;
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return $"{check.Name}: no answer within {timeout.TotalSeconds:0.###} s";
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return $"{check.Name}: {OneLine(e.Message)}";
        }
    }

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
