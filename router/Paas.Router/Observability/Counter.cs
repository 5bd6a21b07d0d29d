namespace Paas.Router.Observability;

/// <summary>A monotonically increasing count, safe to bump from any thread.</summary>
public class Counter
{
    private long _value;

    public long Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);

    public void Add(long amount) => Interlocked.Add(ref _value, amount);
}
