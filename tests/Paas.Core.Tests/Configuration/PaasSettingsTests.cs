using Paas.Core.Configuration;

namespace Paas.Core.Tests.Configuration;

public sealed class PaasSettingsTests
{
    private static PaasSettings With(params (string Name, string Value)[] variables) =>
        PaasSettings.FromEnvironment(name => variables.FirstOrDefault(v => v.Name == name).Value);

    [Theory]
    [InlineData(null, "http://127.0.0.1:8090")]
    [InlineData("0.0.0.0", "http://127.0.0.1:8090")]
    [InlineData("10.1.2.3", "http://10.1.2.3:8090")]
    [InlineData("::", "http://[::1]:8090")]
    [InlineData("fd00::5", "http://[fd00::5]:8090")]
    public void LocalApiUrl_IsWhereTheApiListens_SoTheGitHookReachesIt(string? bind, string expected)
    {
        var settings = bind is null ? With() : With(("PAAS_API_BIND", bind));

        Assert.Equal(expected, settings.LocalApiUrl);
    }

    [Fact]
    public void EmptyRedisPrefix_IsKept_AsTheRouterKeepsIt()
    {
        Assert.Equal("", With(("PAAS_REDIS_PREFIX", "")).RedisPrefix);
        Assert.Equal("paas:", With().RedisPrefix);
    }
}
