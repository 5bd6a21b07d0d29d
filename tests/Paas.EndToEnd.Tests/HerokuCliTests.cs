using System.Text.Json;
using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// The real Heroku CLI against Paas's Heroku Platform API, and `git push heroku main` over HTTPS: the whole flow with
/// the current major (11.x), the access rules with the previous one (10.x).
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class HerokuCliTests(PlatformFixture platform)
{
    private async Task<(HerokuCli Cli, string User)> NewUserAsync(string stem, string? installDirectory = null)
    {
        HerokuCli.EnsureInstalled(installDirectory);
        var name = $"{stem}-{Guid.NewGuid().ToString("N")[..6]}";
        var created = AppUnderTest.Must(await platform.PaasAsync(null, "users:create", name, "--json"));
        var token = JsonDocument.Parse(created.Stdout).RootElement.GetProperty("token").GetString()!;
        return (new HerokuCli(platform, token, Path.Combine(platform.DataDirectory, "heroku-home-" + name), installDirectory), name);
    }

    private static ProcessResult Must(ProcessResult result) => AppUnderTest.Must(result);

    /// <summary>Asserts a line of the CLI's table; on failure the whole output shows, as the CLI printed it.</summary>
    private static void Listed(string pattern, string output) =>
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, pattern), $"/{pattern}/ not in:\n{output}");

    [Fact]
    public async Task HerokuCli_CreatesPushesConfiguresScalesRollsBackAndShowsDynosDomainsAndLogs()
    {
        var (heroku, user) = await NewUserAsync("heroku");
        var app = PlatformFixture.UniqueAppName("hk");
        var workTree = await platform.NewWorkTreeAsync("envecho");
        var served = new AppUnderTest(platform, app, workTree);

        var create = Must(await heroku.RunAsync(workTree, "apps:create", app));
        Assert.Contains($"https://{heroku.GitHost}/{app}.git", create.Stdout);
        var remote = Must(await heroku.GitAsync(workTree, "remote", "get-url", "heroku"));
        Assert.Equal($"https://{heroku.GitHost}/{app}.git", remote.Stdout.Trim());

        // As on Heroku: v1 at creation, and a config change before the first deploy is a release too.
        var early = Must(await heroku.RunAsync(workTree, "config:set", "GREETING=early", "-a", app));
        Assert.Contains("done, v2", early.All);
        var beforePush = Must(await heroku.RunAsync(workTree, "releases", "-a", app));
        Listed(@"v2\s+Set GREETING config var\s", beforePush.Stdout);
        Listed(@"v1\s+Initial release", beforePush.Stdout);

        var push = Must(await heroku.GitAsync(workTree, "push", "heroku", "main"));
        Assert.Contains("Released v3", push.Stderr);
        Assert.Contains("GREETING=early\n", await served.GetAsync());

        var set = Must(await heroku.RunAsync(workTree, "config:set", "GREETING=hello", "SECRET_KEY=s3cret", "-a", app));
        Assert.Contains("done, v4", set.All);
        var afterSet = await served.GetAsync();
        Assert.Contains("GREETING=hello\n", afterSet);
        Assert.Contains("SECRET_KEY=s3cret\n", afterSet);
        var config = Must(await heroku.RunAsync(workTree, "config", "--json", "-a", app));
        Assert.Equal("hello", JsonDocument.Parse(config.Stdout).RootElement.GetProperty("GREETING").GetString());

        var unset = Must(await heroku.RunAsync(workTree, "config:unset", "SECRET_KEY", "-a", app));
        Assert.Contains("done, v5", unset.All);
        var afterUnset = await served.GetAsync();
        Assert.Contains("GREETING=hello\n", afterUnset);
        Assert.Contains("SECRET_KEY=\n", afterUnset);

        var scale = Must(await heroku.RunAsync(workTree, "ps:scale", "web=2", "-a", app));
        Assert.Contains("now running web at 2:", scale.All);
        var ps = Must(await heroku.RunAsync(workTree, "ps", "-a", app));
        Assert.Contains("web.1: up", ps.Stdout);
        Assert.Contains("web.2: up", ps.Stdout);
        Assert.Contains("python3 server.py (2)", ps.Stdout);

        // `paas ps:restart web.2` restarts that instance alone: web.1 keeps its container.
        Dictionary<string, string> Instances(ProcessResult listing) => JsonDocument.Parse(listing.Stdout).RootElement.EnumerateArray()
            .ToDictionary(i => i.GetProperty("id").GetString()!, i => i.GetProperty("instance").GetString()!);
        var beforeRestart = Instances(Must(await served.PaasAsync("ps", "--json")));
        var restarted = Must(await served.PaasAsync("ps:restart", "web.2"));
        Assert.Contains("done, 1 restarted", restarted.Stdout);
        var afterRestart = Instances(Must(await served.PaasAsync("ps", "--json")));
        Assert.Equal(beforeRestart["web.1"], afterRestart["web.1"]);
        Assert.NotEqual(beforeRestart["web.2"], afterRestart["web.2"]);
        var noSuch = await served.PaasAsync("ps:restart", "web.7");
        Assert.NotEqual(0, noSuch.ExitCode);
        Assert.Contains("has no running instance web.7", noSuch.Stderr);

        var releases = Must(await heroku.RunAsync(workTree, "releases", "-a", app));
        Listed(@"v5\s+Remove SECRET_KEY config var", releases.Stdout);
        Listed(@"v4\s+Set GREETING, SECRET_KEY config vars", releases.Stdout);
        Listed($@"v3\s+Deploy [0-9a-f]{{7}}\s+{user}", releases.Stdout);
        Listed(@"v1\s+Initial release", releases.Stdout);

        // Back to v4: its config (SECRET_KEY set) is served again, as a new release v6.
        var rollback = Must(await heroku.RunAsync(workTree, "rollback", "v4", "-a", app));
        Assert.Contains("done, v6", rollback.All);
        Assert.Contains("SECRET_KEY=s3cret\n", await served.GetAsync());
        var afterRollback = Must(await heroku.RunAsync(workTree, "releases", "-a", app));
        Listed(@"v6\s+Rollback to v4", afterRollback.Stdout);

        var info = Must(await heroku.RunAsync(workTree, "releases:info", "v3", "-a", app));
        Listed(@"Release v3", info.Stdout);
        Assert.Contains("GREETING: early", info.Stdout);

        // The CLI lists the app's SNI endpoints before it adds a domain; --wait polls it by id until it succeeded.
        var host = $"www.{app}.example.com";
        var added = Must(await heroku.RunAsync(workTree, "domains:add", host, "--wait", "-a", app));
        Assert.Contains($"DNS Target {PlatformFixture.AppHost(app)}", added.Stdout);
        Must(await heroku.RunAsync(workTree, "domains:wait", host, "-a", app));
        var domains = Must(await heroku.RunAsync(workTree, "domains", "-a", app));
        Assert.Contains(PlatformFixture.AppHost(app), domains.Stdout);
        Listed($@"www\.{app}\.example\.com\s+CNAME\s+{PlatformFixture.AppHost(app)}", domains.Stdout);
        using (var byDomain = await platform.GetThroughRouterAsync(host))
            Assert.Equal(System.Net.HttpStatusCode.OK, byDomain.StatusCode);

        // certs:add posts an SNI endpoint; the router serves the certificate for the domain over HTTPS.
        var (crt, key) = await TestCertificates.SelfSignedAsync(Path.Combine(platform.DataDirectory, "certs-" + host), host);
        var certAdded = await heroku.RunWithInputAsync(workTree, "\n", "certs:add", crt, key, "-a", app);
        Assert.Contains("Certificate details:", certAdded.Stdout);
        Assert.Contains($"CN={host}", certAdded.Stdout);
        var certs = Must(await heroku.RunAsync(workTree, "certs", "-a", app));
        Listed($@"sni-[0-9a-f]{{10}}\s+{System.Text.RegularExpressions.Regex.Escape(host)}\s+{DateTimeOffset.UtcNow.Add(TestCertificates.Validity):yyyy-MM-dd}.*False\s+SNI\s+1", certs.Stdout);
        var https = await TestCertificates.CurlThroughRouterAsync(platform.RouterTlsPort, host, crt);
        Assert.True(https.ExitCode == 0, https.ToString());
        Assert.Contains("GREETING=hello", https.Stdout);

        // Maintenance: the router's 503 page with Retry-After while the app keeps running; off serves it again.
        Must(await heroku.RunAsync(workTree, "maintenance:on", "-a", app));
        Assert.Equal("on", Must(await heroku.RunAsync(workTree, "maintenance", "-a", app)).Stdout.Trim());
        using (var down = await platform.GetThroughRouterAsync(PlatformFixture.AppHost(app)))
        {
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, down.StatusCode);
            Assert.True(down.Headers.RetryAfter is not null, down.ToString());
        }
        Must(await heroku.RunAsync(workTree, "maintenance:off", "-a", app));
        Assert.Equal("off", Must(await heroku.RunAsync(workTree, "maintenance", "-a", app)).Stdout.Trim());
        Assert.StartsWith("200 ", await served.GetAsync());

        // Buildpacks: set, listed back, cleared.
        Must(await heroku.RunAsync(workTree, "buildpacks:set", "https://github.com/heroku/heroku-buildpack-python", "-a", app));
        // One buildpack is listed without a number.
        Listed(@"(?m)^https://github\.com/heroku/heroku-buildpack-python$", Must(await heroku.RunAsync(workTree, "buildpacks", "-a", app)).Stdout);
        Must(await heroku.RunAsync(workTree, "buildpacks:clear", "-a", app));
        Assert.DoesNotContain("heroku-buildpack-python", Must(await heroku.RunAsync(workTree, "buildpacks", "-a", app)).Stdout);

        // The app's one log, every source in Heroku's format: build output, the instances' output, the
        // router's line per request, and platform events.
        var logs = Must(await heroku.RunAsync(workTree, "logs", "-n", "1500", "-a", app));
        Assert.Contains(" staging: ", logs.Stdout);
        Listed(@" app\[web\.\d\]: .*""GET / HTTP/1\.1"" 200", logs.Stdout);
        Assert.Contains(" router: ", logs.Stdout);
        Assert.Contains(" platform: Scaled to web=2", logs.Stdout);
        Assert.Contains(" platform: Released v6: Rollback to v4", logs.Stdout);
        var routerOnly = Must(await heroku.RunAsync(workTree, "logs", "--source", "router", "-n", "5", "-a", app));
        var routerLines = routerOnly.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(routerLines);
        Assert.All(routerLines, l => Assert.Contains(" router: ", l));
        var webOnly = Must(await heroku.RunAsync(workTree, "logs", "--dyno", "web", "-a", app));
        var webLines = webOnly.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(webLines);
        Assert.All(webLines, l => Assert.Matches(@" app\[web\.\d+\]: ", l));

        // apps:rename, heroku's own command (PATCH /apps/APP {"name"}), which then points the heroku remote at the
        // new name: the app serves there with its config, releases, custom domain and certificate; the old host is 404.
        var newName = PlatformFixture.UniqueAppName("hkr");
        Must(await heroku.RunAsync(workTree, "apps:rename", newName, "-a", app));
        Assert.Equal($"https://{heroku.GitHost}/{newName}.git", Must(await heroku.GitAsync(workTree, "remote", "get-url", "heroku")).Stdout.Trim());
        Assert.StartsWith("200 ", await new AppUnderTest(platform, newName, workTree).GetAsync());
        Assert.Contains("GREETING=hello\n", await new AppUnderTest(platform, newName, workTree).GetAsync());
        Assert.StartsWith("404 ", await served.GetAsync());
        Listed(@"v6\s+Rollback to v4", Must(await heroku.RunAsync(workTree, "releases", "-a", newName)).Stdout);
        Listed($@"www\.{app}\.example\.com\s+CNAME\s+{PlatformFixture.AppHost(newName)}", Must(await heroku.RunAsync(workTree, "domains", "-a", newName)).Stdout);
        var httpsAfterRename = await TestCertificates.CurlThroughRouterAsync(platform.RouterTlsPort, host, crt);
        Assert.True(httpsAfterRename.ExitCode == 0, httpsAfterRename.ToString());
        Assert.Contains("GREETING=hello", httpsAfterRename.Stdout);
        var takenBack = await heroku.RunAsync(workTree, "apps:rename", newName, "-a", newName);
        Assert.NotEqual(0, takenBack.ExitCode);
    }

    [Fact]
    public async Task HerokuCli_RunsOneOffsAttachedAndDetached_AndRestartsAndStopsOneDyno()
    {
        var (heroku, _) = await NewUserAsync("hk-run");
        var app = PlatformFixture.UniqueAppName("hkrun");
        var workTree = await platform.NewWorkTreeAsync("envecho");
        var served = new AppUnderTest(platform, app, workTree);
        Must(await heroku.RunAsync(workTree, "apps:create", app));
        Must(await heroku.RunAsync(workTree, "config:set", "GREETING=hello", "-a", app));
        Must(await heroku.GitAsync(workTree, "push", "heroku", "main"));

        // `heroku run` attaches over TLS with its one-time secret: the output, and the command's exit status as the CLI's.
        var run = await heroku.RunAsync(workTree, "run", "echo hi $GREETING; exit 3", "-a", app);
        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Contains("hi hello\n", run.Stdout);
        Assert.DoesNotContain("heroku-command-exit-status", run.All);
        // -x appends the CLI's own status echo; -e sets a variable for this run only.
        var passed = await heroku.RunAsync(workTree, "run", "-x", "-e", "EXTRA=more", "echo $EXTRA", "-a", app);
        Assert.True(passed.ExitCode == 0, passed.ToString());
        Assert.Contains("more\n", passed.Stdout);

        // From a terminal (`script` gives the CLI one), the run gets a TTY, and the status still comes through.
        var environment = heroku.Environment();
        environment["TERM"] = "xterm";
        var atTerminal = await ProcessRunner.RunAsync("script", ["-q", "-e", "-c", $"{heroku.Binary} run 'tty; exit 4' -a {app}", "/dev/null"],
            workTree, environment, TimeSpan.FromMinutes(2));
        Assert.True(atTerminal.ExitCode == 4, atTerminal.ToString());
        Assert.True(atTerminal.Stdout.Contains("/dev/pts/"), atTerminal.ToString());

        // run:detached: its output reaches the app's logs under the run's name.
        var detached = Must(await heroku.RunAsync(workTree, "run:detached", "echo detached-hi", "-a", app));
        var name = System.Text.RegularExpressions.Regex.Match(detached.Stdout, @"--dyno (run\.\d+)").Groups[1].Value;
        Assert.True(name.Length > 0, detached.ToString());
        var logs = "";
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(60) && !logs.Contains("detached-hi"); await Task.Delay(500))
            logs = Must(await heroku.RunAsync(workTree, "logs", "--dyno", name, "-a", app)).Stdout;
        Listed($@"app\[{System.Text.RegularExpressions.Regex.Escape(name)}\]: detached-hi", logs);

        // ps:restart web.1 replaces that dyno alone; the app keeps answering.
        Must(await heroku.RunAsync(workTree, "ps:scale", "web=2", "-a", app));
        // web.1 -> its container(s); two during a hand-over.
        Dictionary<string, string> Instances(List<JsonElement> listing) => listing
            .Where(i => i.GetProperty("state").GetString() == "running")
            .GroupBy(i => i.GetProperty("id").GetString()!)
            .ToDictionary(g => g.Key, g => string.Join(",", g.Select(i => i.GetProperty("instance").GetString()!)));
        var before = Instances(await served.WaitForInstancesAsync(l => Instances(l).Count == 2, TimeSpan.FromSeconds(30)));
        Must(await heroku.RunAsync(workTree, "ps:restart", "web.1", "-a", app));
        var restarted = Instances(await served.InstancesAsync());
        Assert.NotEqual(before["web.1"], restarted["web.1"]);
        Assert.Equal(before["web.2"], restarted["web.2"]);
        Assert.StartsWith("200 ", await served.GetAsync());
        Assert.Contains("Restarted web.1", Must(await served.PaasAsync("events")).Stdout);

        // ps:stop web.1: that dyno stops, the formation stays at 2, so a replacement starts, as on Heroku.
        Must(await heroku.RunAsync(workTree, "ps:stop", "web.1", "-a", app));
        var replaced = Instances(await served.WaitForInstancesAsync(
            l => Instances(l) is var now && now.Count == 2 && now.TryGetValue("web.1", out var id) && id != restarted["web.1"], TimeSpan.FromSeconds(30)));
        Assert.Equal(restarted["web.2"], replaced["web.2"]);
        var ps = Must(await heroku.RunAsync(workTree, "ps", "-a", app));
        Assert.Contains("web.1: up", ps.Stdout);
        Assert.Contains("web.2: up", ps.Stdout);
        Assert.Contains("(2)", ps.Stdout);
        Assert.StartsWith("200 ", await served.GetAsync());

        // ps:restart without a dyno restarts them all.
        Must(await heroku.RunAsync(workTree, "ps:restart", "-a", app));
        var all = Instances(await served.InstancesAsync());
        Assert.DoesNotContain(all.Values, replaced.Values.Contains);
    }

    [Fact]
    public async Task HerokuCli_AsAnotherUser_CannotSeeTheApp_AndABadKeyIsRefused()
    {
        var (owner, _) = await NewUserAsync("hk-owner", HerokuCli.Previous);
        var (stranger, _) = await NewUserAsync("hk-stranger", HerokuCli.Previous);
        var app = PlatformFixture.UniqueAppName("hk-own");
        var workTree = await platform.NewWorkTreeAsync("envecho");
        Must(await owner.RunAsync(workTree, "apps:create", app));

        var strangersConfig = await stranger.RunAsync(null, "config:set", "GREETING=mine", "-a", app);
        var strangersApps = Must(await stranger.RunAsync(null, "apps", "--json"));
        var strangersPush = await stranger.GitAsync(workTree, "push", "heroku", "main");
        var badKey = new HerokuCli(platform, "paas_not-a-token", Path.Combine(platform.DataDirectory, "heroku-home-bad"), HerokuCli.Previous);
        var refused = await badKey.RunAsync(null, "apps:info", "-a", app);

        Assert.NotEqual(0, strangersConfig.ExitCode);
        Assert.Contains("Couldn't find that app", strangersConfig.Stderr);
        Assert.DoesNotContain(app, strangersApps.Stdout);
        Assert.NotEqual(0, strangersPush.ExitCode);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("HEROKU_API_KEY is invalid", refused.Stderr);
        var ownersConfig = Must(await owner.RunAsync(null, "config", "--json", "-a", app));
        Assert.False(JsonDocument.Parse(ownersConfig.Stdout).RootElement.TryGetProperty("GREETING", out _));
    }
}
