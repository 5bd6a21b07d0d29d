using System.Net;

namespace Paas.Router.Tests;

public class RouterSettingsTests
{
    private static RouterSettings From(params (string Name, string Value)[] vars)
    {
        var map = vars.ToDictionary(v => v.Name, v => v.Value);
        return RouterSettings.FromEnvironment(name => map.GetValueOrDefault(name));
    }

    [Fact]
    public void DefaultsMatchTheContract()
    {
        var settings = From();

        Assert.Equal(8080, settings.PublicPort);
        Assert.Equal(8081, settings.AdminPort);
        Assert.Equal(IPAddress.Any, settings.Bind);
        Assert.True(settings.BindsAnyAddress);
        Assert.Equal("127.0.0.1:6379", settings.Redis);
        Assert.Equal("paas:", settings.RedisPrefix);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.ResyncInterval);
    }

    [Fact]
    public void ReadsEveryVariable()
    {
        var settings = From(
            ("PAAS_ROUTER_PORT", "9000"),
            ("PAAS_ROUTER_ADMIN_PORT", "9001"),
            ("PAAS_ROUTER_BIND", "127.0.0.1"),
            ("PAAS_REDIS", "redis.internal:6380,password=x"),
            ("PAAS_REDIS_PREFIX", "test-1:"),
            ("PAAS_ROUTER_RESYNC_SECONDS", "2.5"));

        Assert.Equal(9000, settings.PublicPort);
        Assert.Equal(9001, settings.AdminPort);
        Assert.Equal(IPAddress.Loopback, settings.Bind);
        Assert.False(settings.BindsAnyAddress);
        Assert.Equal("redis.internal:6380,password=x", settings.Redis);
        Assert.Equal("test-1:", settings.RedisPrefix);
        Assert.Equal(TimeSpan.FromSeconds(2.5), settings.ResyncInterval);
    }

    [Fact]
    public void ThePublicPortIsTheEventLoopsUnlessKestrelIsChosen()
    {
        Assert.Equal(FrontEndKind.EventLoop, From().FrontEnd);
        Assert.Equal(Environment.ProcessorCount, From().FrontEndThreads);
        Assert.Equal(FrontEndKind.Kestrel, From(("PAAS_ROUTER_FRONT_END", "Kestrel")).FrontEnd);
        Assert.Equal(FrontEndKind.EventLoop, From(("PAAS_ROUTER_FRONT_END", "event-loop")).FrontEnd);
        Assert.Equal(3, From(("PAAS_ROUTER_THREADS", "3")).FrontEndThreads);
    }

    [Fact]
    public void EmptyPrefixIsAllowed()
    {
        Assert.Equal("", From(("PAAS_REDIS_PREFIX", "")).RedisPrefix);
    }

    [Theory]
    [InlineData("PAAS_ROUTER_PORT", "http")]
    [InlineData("PAAS_ROUTER_PORT", "70000")]
    [InlineData("PAAS_ROUTER_ADMIN_PORT", "0")]
    [InlineData("PAAS_ROUTER_BIND", "localhost")]
    [InlineData("PAAS_ROUTER_RESYNC_SECONDS", "0")]
    [InlineData("PAAS_ROUTER_RESYNC_SECONDS", "soon")]
    [InlineData("PAAS_ROUTER_ADMIN_PORT", "8080")]
    [InlineData("PAAS_ROUTER_FRONT_END", "nginx")]
    [InlineData("PAAS_ROUTER_THREADS", "0")]
    [InlineData("PAAS_ROUTER_APP_LOGS", "sometimes")]
    public void RefusesBadValues(string name, string value)
    {
        // The platform's one error shape (SettingsReader): the variable, what it must be, what it was.
        var error = Assert.Throws<Paas.Core.Configuration.SettingException>(() => From((name, value)));
        Assert.Matches($"^{name} must be .+, not '{value}'\\.$", error.Message);
    }
}
