namespace Paas.Core.Logs;

/// <summary>
/// Allows <c>ratePerSecond</c> on average with bursts of up to <c>burst</c>: tokens refill continuously with
/// time and each admitted item takes one. Not thread-safe; the owner locks.
/// </summary>
public sealed class TokenBucket
{
    private readonly double _ratePerSecond;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private double _tokens;
    private long _refilledAt;

    public TokenBucket(double ratePerSecond, double burst, TimeProvider time)
    {
        _ratePerSecond = ratePerSecond;
        _burst = burst;
        _time = time;
        _tokens = burst;
        _refilledAt = time.GetTimestamp();
    }

    public bool TryTake()
    {
        Refill();
        if (_tokens < 1)
            return false;
        _tokens--;
        return true;
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_refilledAt, now);
        _refilledAt = now;
        _tokens = Math.Min(_burst, _tokens + elapsed.TotalSeconds * _ratePerSecond);
    }
}
