namespace Paas.Router.Table;

/// <summary>
/// Holds the current snapshot. Readers on the request path do one volatile read and never block;
/// the route source is the only writer and swaps in whole snapshots.
/// </summary>
public sealed class RouteTableStore
{
    private RouteTable _current = RouteTable.Empty;

    public RouteTable Current => Volatile.Read(ref _current);

    /// <returns>The snapshot that was replaced.</returns>
    public RouteTable Publish(RouteTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return Interlocked.Exchange(ref _current, table);
    }
}
