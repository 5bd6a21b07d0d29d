namespace Paas.Router.Table;

/// <summary>
/// Holds the current snapshot. Readers on the request path do one volatile read and never block;
/// the route source is the only writer and swaps in whole snapshots.
/// </summary>
public sealed class RouteTableStore
{
    private readonly TaskCompletionSource _firstTable = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RouteTable _current = RouteTable.Empty;

    public RouteTable Current => Volatile.Read(ref _current);

    /// <summary>Completes when the route source publishes its first table (the first load from Redis).</summary>
    public Task FirstTable => _firstTable.Task;

    /// <returns>The snapshot that was replaced.</returns>
    public RouteTable Publish(RouteTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var replaced = Interlocked.Exchange(ref _current, table);
        _firstTable.TrySetResult();
        return replaced;
    }
}
