using Paas.Router.Observability;

namespace Paas.Router.Tests.Observability;

public class AppLogFeedTests
{
    private static AccessLogEntry Entry(string? error = null) => new(
        new DateTime(2026, 11, 27, 23, 0, 0, DateTimeKind.Utc), "hello.localhost", "GET", "/orders", error is null ? 200 : 502, 1234, 12.34,
        10.0, "hello", "abc123", 1, "req-1", error);

    [Fact]
    public void FormatIsOneHerokuStyleLineWithMethodPathStatusBytesDurationAndRequestId() =>
        Assert.Equal("at=info method=GET path=\"/orders\" host=hello.localhost request_id=req-1 status=200 bytes=1234 duration=12.3ms instance=abc123",
            AppLogFeed.Format(Entry()));

    [Fact]
    public void FormatOfARouterErrorNamesTheError() =>
        Assert.StartsWith("at=error code=no_endpoints method=GET", AppLogFeed.Format(Entry("no_endpoints")));

    [Theory]
    [InlineData(null, true)]
    [InlineData("on", true)]
    [InlineData("off", false)]
    [InlineData("0", false)]
    public void AppLogsAreOnUnlessSwitchedOff(string? value, bool expected)
    {
        var settings = RouterSettings.FromEnvironment(name => name == "PAAS_ROUTER_APP_LOGS" ? value : null);

        Assert.Equal(expected, settings.AppLogs);
    }
}
