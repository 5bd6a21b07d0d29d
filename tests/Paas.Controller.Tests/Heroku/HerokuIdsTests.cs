using Paas.Controller.Heroku;

namespace Paas.Controller.Tests.Heroku;

public sealed class HerokuIdsTests
{
    [Fact]
    public void Ids_AreStableVersion5Uuids_DistinctPerKindAndName()
    {
        var id = HerokuIds.App("hello");

        Assert.Equal(id, HerokuIds.App("hello"));
        Assert.True(Guid.TryParse(id, out var guid));
        Assert.Equal(5, guid.Version);
        Assert.NotEqual(id, HerokuIds.App("hello2"));
        Assert.NotEqual(id, HerokuIds.Account("hello"));
        Assert.NotEqual(HerokuIds.Release("hello", 1), HerokuIds.Release("hello", 2));
    }
}
