using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Paas.Controller.Api;
using Paas.Controller.Auth;
using Paas.Controller.Formation;
using Paas.Controller.Instances;
using Paas.Controller.Operations;
using Paas.Controller.Releases;
using Paas.Controller.State;
using Paas.Core.Api;

namespace Paas.Controller.Tests.Operations;

/// <summary>
/// The progress of a scale, restart or config change over HTTP (Accept: application/x-ndjson), from the real
/// endpoints and services on simulated cells: the events are the instances' real transitions, the last line the outcome.
/// </summary>
public sealed class ProgressStreamTests : IAsyncLifetime
{
    private readonly Simulation.Simulation _sim = new();
    private WebApplication _api = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{Paas.Testing.TestPorts.Next()}");
        builder.Services.AddSingleton<IStateStore>(_sim.State).AddSingleton(_sim.Formation).AddSingleton(_sim.Instances).AddSingleton(_sim.Converger)
            .AddSingleton(_sim.Locks).AddSingleton(_sim.Crashes).AddSingleton(_sim.Releases).AddSingleton<TimeProvider>(_sim.Time).AddSingleton<ReleaseOutcomes>();
        _api = builder.Build();
        _api.Use((context, next) =>
        {
            new Caller(Simulation.Simulation.Owner, "admin", "t1").Attach(context);
            return next(context);
        });
        var v1 = _api.MapGroup("/v1");
        v1.MapProcessApi();
        v1.MapConfigApi();
        await _api.StartAsync();
        // Bounded, so a stream that never ends fails the test instead of hanging it.
        _http = new HttpClient { BaseAddress = new Uri(_api.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };
        await _sim.CreateAppAsync("app", web: 1);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _api.DisposeAsync();
        _sim.Dispose();
    }

    private async Task<List<ProgressEvent>> StreamAsync(HttpMethod method, string path, string body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ProgressEvent.MediaType));
        using var response = await _http.SendAsync(request);
        Assert.Equal(ProgressEvent.MediaType, response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize<ProgressEvent>(l, ApiJson.Strict)!).ToList();
    }

    [Fact]
    public async Task Scale_StreamsEachNewInstanceStartingHealthyAndRouted_ThenTheOutcome()
    {
        var events = await StreamAsync(HttpMethod.Patch, "/v1/apps/app/formation", """{"updates": [{"process": "web", "quantity": 3}]}""");

        Assert.Equal(ProgressEvent.Accepted, events[0].Event);
        foreach (var instance in new[] { "web.2", "web.3" })
        {
            var of = events.Where(e => e.Instance == instance).Select(e => e.Event).ToList();
            Assert.Equal([ProgressEvent.Starting, ProgressEvent.Healthy, ProgressEvent.Routed], of);
        }
        Assert.DoesNotContain(events, e => e.Instance == "web.1");
        var last = events[^1];
        Assert.Equal(ProgressEvent.Done, last.Event);
        Assert.Equal(1, events.Count(e => e.IsFinal));
        Assert.Equal((3, 3, true), (last.Outcome!.Healthy, last.Outcome.Wanted, last.Outcome.Ok));
        Assert.StartsWith("Scaled web to 3: 3 of 3 healthy in ", last.Outcome.Summary);
    }

    [Fact]
    public async Task ConfigChange_ShowsTheNewReleaseTurningHealthyAndTheOldStopping()
    {
        await StreamAsync(HttpMethod.Patch, "/v1/apps/app/formation", """{"updates": [{"process": "web", "quantity": 2}]}""");

        var events = await StreamAsync(HttpMethod.Patch, "/v1/apps/app/config", """{"GREETING": "hi"}""");

        var release = _sim.State.CurrentRelease("app")!.Version;
        Assert.Equal(2, events.Count(e => e.Event == ProgressEvent.Healthy && e.Release == release));
        Assert.Equal(2, events.Count(e => e.Event == ProgressEvent.Stopped && e.Release == release - 1));
        Assert.True(events.FindIndex(e => e.Event == ProgressEvent.Healthy && e.Instance == "web.1")
            < events.FindIndex(e => e.Event == ProgressEvent.Stopped && e.Instance == "web.1"), "the old web.1 stopped before the new one was healthy");
        Assert.Equal(ProgressEvent.Done, events[^1].Event);
        Assert.Equal(release, events[^1].Outcome!.Release);
    }

    [Fact]
    public async Task AReleaseThatNeverBecomesHealthy_EndsFailed_WithTheReason()
    {
        // Every release after the one running fails its health check.
        var good = _sim.State.CurrentRelease("app")!.Version;
        foreach (var cell in _sim.Fleet.Cells)
            cell.Healthy = (spec, _) => spec.Release <= good;

        var events = await StreamAsync(HttpMethod.Patch, "/v1/apps/app/config", """{"BROKEN": "1"}""");

        Assert.Contains(events, e => e.Event == ProgressEvent.Unhealthy && e.Message == "no answer on its port");
        var last = events[^1];
        Assert.Equal(ProgressEvent.Failed, last.Event);
        Assert.False(last.Outcome!.Ok);
        Assert.Equal("release_failed", last.Outcome.Error);
        Assert.Contains("never became healthy: no answer on its port", last.Outcome.Summary);
    }

    [Fact]
    public async Task WithoutTheAcceptHeader_TheAnswerIsTheOneJsonItWas()
    {
        using var response = await _http.PatchAsync("/v1/apps/app/formation", new StringContent("""{"updates": [{"process": "web", "quantity": 2}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(1, body.RootElement.GetProperty("started").GetInt32());
    }

    [Fact]
    public async Task AClientThatStopsListening_LeavesTheOperationRunning()
    {
        // The first start waits until the client has gone: the scale must go on without anyone listening.
        var gone = new TaskCompletionSource();
        foreach (var cell in _sim.Fleet.Cells)
            cell.BeforeStart = _ => gone.Task;
        using (var request = new HttpRequestMessage(HttpMethod.Patch, "/v1/apps/app/formation")
        {
            Content = new StringContent("""{"updates": [{"process": "web", "quantity": 2}]}""", Encoding.UTF8, "application/json"),
        })
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ProgressEvent.MediaType));
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.Contains("\"accepted\"", await reader.ReadLineAsync());
        }
        gone.SetResult();

        for (var i = 0; i < 200 && _sim.Running("app").Count < 2; i++)
            await Task.Delay(25);
        Assert.Equal(2, _sim.Running("app").Count);
    }
}
