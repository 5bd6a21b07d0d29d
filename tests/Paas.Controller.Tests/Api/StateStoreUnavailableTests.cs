using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Paas.Controller.Api;
using Paas.Controller.State;

namespace Paas.Controller.Tests.Api;

/// <summary>A state store that cannot commit (etcd without quorum) reaches the user as 503 with its one sentence.</summary>
public sealed class StateStoreUnavailableTests
{
    private const string Sentence = "The state store has no quorum: 1 of 3 members reachable; writes are refused until a majority is back.";

    [Theory]
    [InlineData("/v1/apps")]
    [InlineData("/apps")] // the Heroku Platform API lives at the root
    public async Task AWriteTheStoreRefuses_Answers503_WithTheStoresSentence(string path)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.UseApiErrors();
        app.MapPost(path, IResult () => throw new StateStoreUnavailableException(Sentence));
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var response = await http.PostAsync(path, null);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("state_store_unavailable", body.RootElement.GetProperty("id").GetString());
        Assert.Equal(Sentence, body.RootElement.GetProperty("message").GetString());
    }
}
