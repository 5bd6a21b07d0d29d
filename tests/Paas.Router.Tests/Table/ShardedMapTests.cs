using Paas.Router.Table;

namespace Paas.Router.Tests.Table;

public class ShardedMapTests
{
    [Fact]
    public void WritesMakeANewMapAndLeaveEveryPublishedOneAsItWas()
    {
        var builder = ShardedMap<int>.Empty(ignoreCase: false).ToBuilder();
        for (var i = 0; i < 1000; i++)
        {
            builder.Set($"key{i}", i);
        }

        var first = builder.ToMap();
        builder.Set("key1", -1);
        builder.Remove("key2");
        builder.Set("extra", 5);
        var second = builder.ToMap();

        Assert.Equal(1000, first.Count);
        Assert.Equal(1, first["key1"]);
        Assert.True(first.ContainsKey("key2"));
        Assert.False(first.ContainsKey("extra"));
        Assert.Equal(1000, first.Count());

        Assert.Equal(1000, second.Count);
        Assert.Equal(-1, second["key1"]);
        Assert.False(second.ContainsKey("key2"));
        Assert.Equal(5, second["extra"]);
        Assert.Same(second, builder.ToMap());
    }

    [Fact]
    public void EveryKeyOfALargeMapIsFoundAndNoOtherIsAfterRemovals()
    {
        var builder = ShardedMap<int>.Empty(ignoreCase: true).ToBuilder();
        for (var i = 0; i < 20_000; i++)
        {
            builder.Set($"app{i}.example.com", i);
        }

        var full = builder.ToMap();
        for (var i = 0; i < 20_000; i += 2)
        {
            Assert.True(builder.Remove($"APP{i}.example.com"));
        }

        var half = builder.ToMap();
        Assert.Equal(20_000, full.Count);
        Assert.Equal(10_000, half.Count);
        Assert.Equal(10_000, half.Count());
        for (var i = 0; i < 20_000; i++)
        {
            Assert.True(full.TryGetValue($"app{i}.example.com", out var value) && value == i, $"app{i} missing from the full map");
            Assert.Equal(i % 2 == 1, half.TryGetValue($"App{i}.Example.com".AsSpan(), out _));
        }

        Assert.False(full.ContainsKey("app20000.example.com"));
    }

    [Fact]
    public void ABuilderWithNoWritesGivesBackTheSameMap()
    {
        var map = ShardedMap<int>.Empty(ignoreCase: false).ToBuilder().ToMap();
        var builder = map.ToBuilder();
        Assert.False(builder.Remove("absent"));
        Assert.Same(map, builder.ToMap());
    }

    [Theory]
    [InlineData("Shop.Example.COM", "shop.example.com")]
    [InlineData("café.example", "CAFÉ.example")]
    [InlineData("дом.example", "ДОМ.example")]
    [InlineData("ÿ.example", "Ÿ.example")]
    public void KeysEqualIgnoringCaseAreFoundByStringAndBySpan(string stored, string asked)
    {
        var builder = ShardedMap<string>.Empty(ignoreCase: true).ToBuilder();
        builder.Set(stored, "app");
        var map = builder.ToMap();

        Assert.True(map.TryGetValue(asked, out var byString));
        Assert.True(map.TryGetValue(asked.AsSpan(), out var bySpan));
        Assert.Equal("app", byString);
        Assert.Equal("app", bySpan);
    }

    [Fact]
    public void OrdinalMapsTellCaseApart()
    {
        var builder = ShardedMap<int>.Empty(ignoreCase: false).ToBuilder();
        builder.Set("App", 1);
        var map = builder.ToMap();

        Assert.False(map.ContainsKey("app"));
        Assert.Throws<KeyNotFoundException>(() => map["app"]);
    }
}
