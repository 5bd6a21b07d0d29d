using System.Reflection;
using Paas.Core.Routing;
using Paas.Router.Table;

namespace Paas.Router.Tests.Table;

/// <summary>
/// What the controller writes is what the router reads: every record goes through Paas.Core's
/// <see cref="RoutingJson"/> on both sides, and nothing the writer can express is lost or misread on the way.
/// </summary>
public class RoutingContractTests
{
    [Fact]
    public void ARouteEntryWrittenByTheControllerArrivesWhole()
    {
        var written = new RouteEntry("shop-web-3-v12-ab12cd", "shop", "web", 12, "10.213.1.2:40123", "cell-h2");

        Assert.True(InstanceEndpoint.TryParse(written.Instance, RoutingJson.Write(written), out var read));

        Assert.Equal(new InstanceEndpoint(written.Instance, written.App, written.Process, written.Release, written.Address, written.Cell), read);
    }

    [Fact]
    public void AppOptionsWrittenByTheControllerArriveWhole()
    {
        var written = new AppRouteOptions(AppRouteOptions.LeastRequests, "JSESSIONID", 12.5, 1_000_000);

        Assert.True(AppRouteConfig.TryParse(RoutingJson.Write(written), out var read));

        Assert.Equal(new AppRouteConfig(BalancingPolicy.LeastRequests, "JSESSIONID", TimeSpan.FromSeconds(12.5), 1_000_000), read);
    }

    [Fact]
    public void EveryChangeKindTheWriterHasIsOneTheRouterApplies()
    {
        var kinds = typeof(RouteChange).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToList();
        Assert.NotEmpty(kinds);

        foreach (var kind in kinds)
        {
            Assert.True(TableChange.TryParse(RoutingJson.Write(new RouteChange(kind, "k", "v", 7)), out var read), kind);
            Assert.Equal(7, read.Version);
        }
    }
}
