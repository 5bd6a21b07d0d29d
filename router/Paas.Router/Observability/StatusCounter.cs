namespace Paas.Router.Observability;

/// <summary>
/// The request count for one app and status code. It carries its status so an app's pool can cache the
/// last one it used and check it with no second object to read (see <see cref="RouterMetrics.Record"/>).
/// </summary>
public sealed class StatusCounter(int status) : Counter
{
    public int Status { get; } = status;
}
