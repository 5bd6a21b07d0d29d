using Paas.Core.Routing;

namespace Paas.Controller.Routing;

/// <summary>
/// The routing table as the controller's core writes it, and the routers' acknowledgement of the versions
/// they applied. <see cref="RoutePublisher"/> writes Redis (routers apply its change channel); the simulation
/// tests keep the table in memory with a fake router.
/// </summary>
public interface IRoutePublisher
{
    Task SetHostAsync(string host, string app);

    Task RemoveHostAsync(string host);

    /// <summary>The whole hosts table (host → app), read once per full pass.</summary>
    Task<IReadOnlyDictionary<string, string>> HostsAsync();

    /// <returns>The write's version, for <see cref="WaitAppliedAsync"/>.</returns>
    Task<long> SetAppOptionsAsync(string app, AppRouteOptions options);

    /// <summary>The whole app-options table (app → options JSON), read once per full pass.</summary>
    Task<IReadOnlyDictionary<string, string>> AppOptionsAsync();

    /// <returns>The write's version, for <see cref="WaitAppliedAsync"/>.</returns>
    Task<long> AddRouteAsync(RouteEntry entry);

    /// <returns>The version of the last write, for <see cref="WaitAppliedAsync"/>.</returns>
    Task<long> AddRoutesAsync(IReadOnlyList<RouteEntry> entries);

    /// <returns>The write's version, for <see cref="WaitAppliedAsync"/>.</returns>
    Task<long> RemoveRouteAsync(string instanceId);

    Task<IReadOnlyList<RouteEntry>> RoutesOfAppAsync(string app);

    /// <summary>Rereads the whole table into the per-app index (once per full pass).</summary>
    Task ReloadAsync();

    /// <summary>Waits until every live router serves the table at <paramref name="version"/> or later; false when the timeout passes first, or no router is live.</summary>
    Task<bool> WaitAppliedAsync(long version, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken);
}
