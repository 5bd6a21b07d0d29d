using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Paas.Controller.Api;

namespace Paas.Controller.Tests.Api;

public sealed class PagingTests
{
    private static readonly IReadOnlyList<string> Names = Enumerable.Range(1, 250).Select(i => $"app-{i:000}").ToList();

    [Fact]
    public async Task Page_WithoutLimit_GivesTheFirstHundred_AndLinksToTheNext()
    {
        var response = await ListAsync("");

        Assert.Equal(200, response.Status);
        Assert.Equal(Names.Take(100), response.Names);
        Assert.Equal("</v1/apps?limit=100&after=app-100>; rel=\"next\"", response.Link);
        Assert.Equal("]app-100..; max=100", response.NextRange);
    }

    [Fact]
    public async Task Page_FollowingTheNextLink_WalksEveryItemOnce()
    {
        var seen = new List<string>();
        var query = "?limit=70";
        var pages = 0;
        while (true)
        {
            var response = await ListAsync(query);
            Assert.Equal(200, response.Status);
            seen.AddRange(response.Names);
            pages++;
            if (response.Link is null)
            {
                Assert.Null(response.NextRange);
                break;
            }
            query = response.Link[response.Link.IndexOf('?')..response.Link.IndexOf('>')];
        }

        Assert.Equal(4, pages);
        Assert.Equal(Names, seen);
    }

    [Fact]
    public async Task Page_LastPageExactlyFull_HasNoNextLink()
    {
        var response = await ListAsync("?limit=50&after=app-200");

        Assert.Equal(Names.Skip(200), response.Names);
        Assert.Null(response.Link);
        Assert.Null(response.NextRange);
    }

    [Fact]
    public async Task Page_AllItemsFit_HasNoNextLink()
    {
        var response = await ListAsync("?limit=1000");

        Assert.Equal(250, response.Names.Count);
        Assert.Null(response.Link);
        Assert.Null(response.NextRange);
    }

    [Fact]
    public async Task Page_EmptyList_IsAnEmptyArray()
    {
        var response = await ListAsync("", items: []);

        Assert.Equal(200, response.Status);
        Assert.Empty(response.Names);
        Assert.Null(response.Link);
    }

    [Fact]
    public async Task Page_CursorIsEscapedInTheLink()
    {
        var items = new[] { "a b", "c&d", "e" };

        var first = await ListAsync("?limit=1", items);
        var second = await ListAsync("?limit=2&after=a%20b", items);

        Assert.Equal("</v1/apps?limit=1&after=a%20b>; rel=\"next\"", first.Link);
        Assert.Equal(["c&d", "e"], second.Names);
    }

    [Fact]
    public async Task Page_CursorOfADeletedItem_Is400_NotAnEmptyLastPage()
    {
        var response = await ListAsync("?limit=10&after=app-deleted");

        Assert.Equal(400, response.Status);
        using var body = JsonDocument.Parse(response.Body);
        Assert.Equal("invalid_cursor", body.RootElement.GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("?limit=0")]
    [InlineData("?limit=1001")]
    [InlineData("?limit=-5")]
    [InlineData("?limit=ten")]
    [InlineData("?limit=2.5")]
    [InlineData("?limit=%2B5")]
    [InlineData("?limit=99999999999")]
    public async Task Page_BadLimit_Is400WithInvalidLimit(string query)
    {
        var response = await ListAsync(query);

        Assert.Equal(400, response.Status);
        using var body = JsonDocument.Parse(response.Body);
        Assert.Equal("invalid_limit", body.RootElement.GetProperty("id").GetString());
        Assert.Equal("limit must be a whole number from 1 to 1000.", body.RootElement.GetProperty("message").GetString());
        Assert.Null(response.Link);
    }

    private static async Task<ListResponse> ListAsync(string query, IReadOnlyList<string>? items = null)
    {
        var context = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddLogging().AddOptions().BuildServiceProvider(),
        };
        context.Request.Path = "/v1/apps";
        context.Request.QueryString = new QueryString(query);
        context.Response.Body = new MemoryStream();

        var result = Paging.Page(context, items ?? Names, n => n, n => new { name = n });
        await result.ExecuteAsync(context);

        context.Response.Body.Position = 0;
        var body = await new StreamReader(context.Response.Body).ReadToEndAsync();
        var names = context.Response.StatusCode == 200
            ? JsonDocument.Parse(body).RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToList()
            : [];
        return new ListResponse(
            context.Response.StatusCode,
            body,
            names,
            context.Response.Headers.Link.Count > 0 ? context.Response.Headers.Link.ToString() : null,
            context.Response.Headers.TryGetValue("Next-Range", out var range) ? range.ToString() : null);
    }

    private sealed record ListResponse(int Status, string Body, List<string> Names, string? Link, string? NextRange);
}
