namespace Paas.Controller.Certificates;

/// <summary>
/// When a hostname with automatic certificates needs an order: when it has no certificate from the directory, or
/// its certificate expires within <see cref="RenewBefore"/> (Let's Encrypt's advice: renew with a third of 90 days
/// left); and after a failure, not before the backoff is over (1 min, doubling, at most 6 h), so a broken domain does
/// not hammer the directory (its rate limits count failed validations).
/// </summary>
public static class RenewalPolicy
{
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);
    public static readonly TimeSpan FirstRetry = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxRetry = TimeSpan.FromHours(6);

    public static bool IsDue(DateTimeOffset now, DateTimeOffset? notAfter, DateTimeOffset? nextAttempt)
    {
        if (nextAttempt is { } next && now < next)
            return false;
        return notAfter is not { } expiry || now >= expiry - RenewBefore;
    }

    /// <summary>The wait after the <paramref name="failures"/>-th failure in a row (1-based).</summary>
    public static TimeSpan Backoff(int failures)
    {
        var minutes = FirstRetry.TotalMinutes * Math.Pow(2, Math.Clamp(failures - 1, 0, 30));
        return TimeSpan.FromMinutes(Math.Min(minutes, MaxRetry.TotalMinutes));
    }
}
