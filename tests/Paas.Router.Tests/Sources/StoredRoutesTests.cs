using Paas.Router.Sources;
using Paas.Router.Table;
using StackExchange.Redis;

namespace Paas.Router.Tests.Sources;

public sealed class StoredRoutesTests
{
    private static string Json(string instance, string app, string address) =>
        $$"""{"instance":"{{instance}}","app":"{{app}}","process":"web","release":1,"address":"{{address}}"}""";

    private static readonly HashEntry[] Hosts = [new("shop.example", "shop"), new("*.blog.example", "blog")];

    // A non-ASCII character in a registration: compared as text, so its UTF-8 bytes must decode to the same string.
    private static readonly HashEntry[] Routes =
        [new("shop-web-1", Json("shop-web-1", "shop", "10.0.0.1:8080")), new("blog-web-1", Json("blog-web-1", "blog", "10.0.0.2:8080").Replace("web", "wéb"))];

    private static readonly HashEntry[] Options = [new("shop", """{"timeout_seconds":5}""")];

    private static RouteTable TableOf(HashEntry[] hosts, HashEntry[] routes, HashEntry[] options)
    {
        var endpoints = routes.Select(r => InstanceEndpoint.TryParse(r.Name.ToString(), r.Value.ToString(), out var e) ? e : throw new InvalidOperationException());
        var configs = options.Select(o => AppRouteConfig.TryParse(o.Value.ToString(), out var c) ? KeyValuePair.Create(o.Name.ToString(), c) : throw new InvalidOperationException());
        return RouteTable.Build(1, hosts.Select(h => KeyValuePair.Create(h.Name.ToString(), h.Value.ToString())), endpoints, configs);
    }

    [Fact]
    public void WhatTheTableWasBuiltFromMatchesIt()
    {
        Assert.True(StoredRoutes.Match(TableOf(Hosts, Routes, Options), Hosts, Routes, Options));
    }

    [Fact]
    public void AHostStoredInOtherCaseStillMatchesBecauseHostnamesIgnoreCase()
    {
        HashEntry[] shouted = [new("SHOP.example", "shop"), Hosts[1]];
        Assert.True(StoredRoutes.Match(TableOf(Hosts, Routes, Options), shouted, Routes, Options));
    }

    public static TheoryData<string> Differences => new()
    {
        "host moved to another app", "host added", "host removed", "registration changed", "registration added",
        "registration replaced by another instance", "options changed", "options removed",
    };

    [Theory]
    [MemberData(nameof(Differences))]
    public void AnyDifferenceIsAMismatch(string difference)
    {
        var (hosts, routes, options) = Stored(difference);
        Assert.False(StoredRoutes.Match(TableOf(Hosts, Routes, Options), hosts, routes, options));
    }

    /// <summary>What Redis holds after <paramref name="difference"/> was made to what the table was built from.</summary>
    private static (HashEntry[] Hosts, HashEntry[] Routes, HashEntry[] Options) Stored(string difference) =>
        difference switch
        {
            "host moved to another app" => ([new("shop.example", "blog"), Hosts[1]], Routes, Options),
            "host added" => ([.. Hosts, new("new.example", "shop")], Routes, Options),
            "host removed" => ([Hosts[0]], Routes, Options),
            "registration changed" => (Hosts, [new("shop-web-1", Json("shop-web-1", "shop", "10.0.0.9:8080")), Routes[1]], Options),
            "registration added" => (Hosts, [.. Routes, new("shop-web-2", Json("shop-web-2", "shop", "10.0.0.3:8080"))], Options),
            "registration replaced by another instance" => (Hosts, [new("shop-web-2", Json("shop-web-2", "shop", "10.0.0.1:8080")), Routes[1]], Options),
            "options changed" => (Hosts, Routes, [new("shop", """{"timeout_seconds":6}""")]),
            "options removed" => (Hosts, Routes, []),
            _ => throw new ArgumentOutOfRangeException(nameof(difference)),
        };

    [Fact]
    public void ARegistrationLongerThanTheFirstBufferIsComparedWhole()
    {
        HashEntry[] routes = [new("shop-web-1", Json("shop-web-1", "shop", "10.0.0.1:8080").Replace("}", ",\"note\":\"" + new string('x', 5000) + "\"}"))];
        var table = TableOf([Hosts[0]], routes, []);
        Assert.True(StoredRoutes.Match(table, [Hosts[0]], routes, []));

        HashEntry[] changedAtTheEnd = [new("shop-web-1", routes[0].Value.ToString().Replace("x\"}", "y\"}"))];
        Assert.False(StoredRoutes.Match(table, [Hosts[0]], changedAtTheEnd, []));
    }
}
