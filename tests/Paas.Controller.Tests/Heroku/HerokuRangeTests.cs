using Paas.Controller.Heroku;

namespace Paas.Controller.Tests.Heroku;

public sealed class HerokuRangeTests
{
    [Theory]
    [InlineData("version ..; order=desc,max=1", "version", 1, true)]
    [InlineData("version ..; max=15, order=desc", "version", 15, true)]
    [InlineData("id ..; max=1000;", "id", 1000, false)]
    [InlineData("name ..; max=5000", "name", HerokuRange.LargestMax, false)]
    public void Parse_ReadsFieldMaxAndOrder_AsTheCliSendsThem(string header, string field, int max, bool descending)
    {
        Assert.Equal(new HerokuRange(field, max, descending), HerokuRange.Parse(header));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Parse_NoHeader_IsTheDefaultAscendingWindow(string? header)
    {
        Assert.Equal(new HerokuRange(null, HerokuRange.DefaultMax, false), HerokuRange.Parse(header));
    }
}
