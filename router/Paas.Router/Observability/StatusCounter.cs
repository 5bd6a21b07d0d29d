namespace Paas.Router.Observability;

/// <summary>
/// The request count for one app and status code. It carries its status so an app's pool can cache the
/// last one it used and check it with no second object to read (see <see cref="RouterMetrics.Record"/>).
/// </summary>
public sealed class StatusCounter(int status)
{
    private long _value;

    public int Status { get; } = status;

    public long Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);
}
