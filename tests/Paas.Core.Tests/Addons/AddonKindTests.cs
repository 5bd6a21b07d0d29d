using Paas.Core.Addons;

namespace Paas.Core.Tests.Addons;

public sealed class AddonKindTests
{
    [Theory]
    [InlineData("postgresql", "postgresql", "hobby")]
    [InlineData("postgresql:small", "postgresql", "small")]
    [InlineData("heroku-postgresql", "postgresql", "hobby")]
    [InlineData("heroku-postgresql:essential-0", "postgresql", "hobby")]
    [InlineData("Redis:Standard", "redis", "standard")]
    [InlineData("heroku-redis:mini", "redis", "hobby")]
    public void Parse_MapsOurAndHerokusNames_ToAKindAndPlan(string service, string kind, string plan)
    {
        var (parsed, parsedPlan, problem) = AddonKind.Parse(service);

        Assert.Null(problem);
        Assert.Equal(kind, parsed!.Name);
        Assert.Equal(plan, parsedPlan);
    }

    [Theory]
    [InlineData("mysql", "Unknown add-on service 'mysql'; this platform offers: postgresql, redis.")]
    [InlineData("postgresql:huge", "Unknown plan 'huge' for postgresql; plans: hobby (256 MB), small (512 MB), standard (1024 MB).")]
    public void Parse_RefusesUnknownServicesAndPlans_InOneSentence(string service, string message)
    {
        var (kind, _, problem) = AddonKind.Parse(service);

        Assert.Null(kind);
        Assert.Equal(message, problem);
    }

    [Fact]
    public void Url_NamesTheContainerAsHost_WithTheCredentials()
    {
        Assert.Equal("postgres://u1:pw@paas-addon-postgresql-1a:5432/d1", AddonKind.Postgresql.Url("postgresql-1a", "u1", "pw", "d1"));
        Assert.Equal("redis://:pw@paas-addon-redis-2b:6379", AddonKind.Redis.Url("redis-2b", "u1", "pw", "d1"));
    }
}
