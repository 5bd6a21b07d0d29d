using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Docker.DotNet.Models;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>`paas run`: one-off containers of the current release, their output live and their exit code the CLI's.</summary>
[Collection(PlatformCollection.Name)]
public sealed class RunTests(PlatformFixture platform)
{
    private static bool IsRun(ContainerListResponse container) => container.Labels.TryGetValue("paas.role", out var role) && role == "run";

    [Fact]
    public async Task Run_HasTheReleaseConfig_StreamsOutput_AndExitsWithTheCommandsExitCode()
    {
        var workTree = await platform.NewWorkTreeAsync("python");
        File.WriteAllText(Path.Combine(workTree, "app.json"), """{ "env": { "GREETING": { "value": "hello from config" } } }""");
        await platform.CommitAllAsync(workTree, "app.json");
        var name = PlatformFixture.UniqueAppName("run");
        AppUnderTest.Must(await platform.PaasAsync(workTree, "apps:create", name));
        AppUnderTest.Must(await platform.PaasAsync(workTree, "git:remote", name));
        AppUnderTest.Must(await platform.GitAsync(workTree, "push", "paas", "main"));
        var app = new AppUnderTest(platform, name, workTree);
        // Not app.PaasAsync: it appends -a APP, which after `--` would be part of the command.
        Task<ProcessResult> RunAsync(params string[] args) => platform.PaasAsync(workTree, ["run", "-a", name, .. args]);

        // One word is a shell command as typed: config, the DYNO name, the app user, and its own exit code.
        var failing = await RunAsync("--", "echo \"$GREETING as $DYNO\"; id -u; ls /app/app.py; exit 3");
        // Several words are argv, quoted for the container's shell.
        var python = await RunAsync("--", "python3", "-c", "import sys; print('it''s', 2 + 3); sys.exit(0)");
        var limited = await RunAsync("--timeout", "3", "--", "sleep 60");
        var hog = await RunAsync("--", "python3", "-c", "x = b'x' * (900 * 1024 * 1024)");

        Assert.True(failing.ExitCode == 3, failing.ToString());
        Assert.Equal("hello from config as run.1\n1000\n/app/app.py\n", failing.Stdout);
        Assert.True(python.ExitCode == 0, python.ToString());
        Assert.Equal("its 5\n", python.Stdout);
        Assert.True(limited.ExitCode == 124, limited.ToString());
        Assert.Contains("`sleep 60` was still running after 3 s, so it was stopped.", limited.Stderr);
        Assert.True(hog.ExitCode == 137, hog.ToString());
        Assert.Contains("ran out of memory (512 MB)", hog.Stderr);
        var events = AppUnderTest.Must(await app.PaasAsync("events")).Stdout;
        // v1 is the "Initial release" made at apps:create (as on Heroku); the push is v2.
        Assert.Contains("Ran `echo \"$GREETING as $DYNO\"; id -u; ls /app/app.py; exit 3` on v2: exited with code 3", events);
        Assert.Contains("Ran `sleep 60` on v2: was stopped after", events);
        // No one-off container is left behind, and the app's own instance kept serving.
        Assert.DoesNotContain(await platform.ContainersAsync(name), IsRun);
        Assert.StartsWith("200 Hello from python", await app.GetAsync());

        // Live: the first line reaches the client while the command is still sleeping.
        var token = (await File.ReadAllTextAsync(Path.Combine(platform.DataDirectory, "admin-token"))).Trim();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{platform.ApiUrl}/v1/apps/{name}/runs")
        {
            Content = JsonContent.Create(new { command = "echo first; sleep 4; echo second" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var lines = new List<(string Text, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        while (await reader.ReadLineAsync() is { } line)
            lines.Add((line, clock.Elapsed));
        Assert.Equal(["""{"line":"first"}""", """{"line":"second"}"""], lines.Take(2).Select(l => l.Text));
        Assert.True(lines[1].At - lines[0].At > TimeSpan.FromSeconds(3), $"first at {lines[0].At}, second at {lines[1].At}: not streamed");
        using var end = JsonDocument.Parse(lines[^1].Text);
        Assert.Equal(0, end.RootElement.GetProperty("exit_code").GetInt32());

        // Ctrl-C: when the client goes away mid-run, its one-off container goes too.
        using (var abandoned = new HttpRequestMessage(HttpMethod.Post, $"{platform.ApiUrl}/v1/apps/{name}/runs") { Content = JsonContent.Create(new { command = "echo started; sleep 300" }) })
        {
            abandoned.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var started = await http.SendAsync(abandoned, HttpCompletionOption.ResponseHeadersRead);
            using var startedReader = new StreamReader(await started.Content.ReadAsStreamAsync());
            Assert.Equal("""{"line":"started"}""", await startedReader.ReadLineAsync());
            Assert.Contains(await platform.ContainersAsync(name), IsRun);
        }
        var left = await platform.ContainersAsync(name);
        for (var i = 0; i < 100 && left.Any(IsRun); i++)
        {
            await Task.Delay(200);
            left = await platform.ContainersAsync(name);
        }
        Assert.DoesNotContain(left, IsRun);
    }

    [Fact]
    public async Task Run_AppWithoutARelease_SaysPushFirst_AndAnUnknownApp_IsNotFound()
    {
        var name = PlatformFixture.UniqueAppName("norel");
        AppUnderTest.Must(await platform.PaasAsync(null, "apps:create", name));

        var run = await platform.PaasAsync(null, "run", "-a", name, "--", "ls");
        var unknown = await platform.PaasAsync(null, "run", "-a", "no-such-app-here", "--", "ls");
        var nothing = await platform.PaasAsync(null, "run", "-a", name);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"{name} has no release yet: push first", run.Stderr);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("No app named 'no-such-app-here' exists.", unknown.Stderr);
        Assert.Equal(2, nothing.ExitCode);
    }
}
