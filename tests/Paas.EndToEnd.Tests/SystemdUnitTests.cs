using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>The units in deploy/systemd: systemd itself reads them, and each keeps what supervision needs.</summary>
public sealed class SystemdUnitTests
{
    private const string Analyzer = "/usr/bin/systemd-analyze";

    private static readonly string UnitDirectory = Path.Combine(RepoPaths.Root, "deploy", "systemd");

    public static readonly TheoryData<string> Roles = new() { "router", "cell", "controller" };

    [Fact]
    public async Task SystemdAnalyzeVerify_AcceptsEveryUnit_WithoutAWarning()
    {
        if (!File.Exists(Analyzer))
        {
            // Skipping is for developer machines without systemd; CI must have it, so there it fails.
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true",
                $"{Analyzer} is missing (install the systemd package): CI must verify deploy/systemd/*.service.");
            return;
        }
        var units = Directory.GetFiles(UnitDirectory, "paas-*").Order().ToArray();
        Assert.Equal(["paas-cell.service", "paas-controller.service", "paas-registry-gc.service", "paas-registry-gc.timer", "paas-registry.service", "paas-router.service"],
            units.Select(Path.GetFileName));

        var result = await ProcessRunner.RunAsync(Analyzer, ["verify", .. units], null, new Dictionary<string, string>(), TimeSpan.FromMinutes(1));

        // verify exits 0 on a misspelt key or a bad value, saying so on stderr: any word from it is a failure.
        Assert.True(result.ExitCode == 0 && result.All.Trim().Length == 0, $"systemd-analyze verify: {result}");
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void EachUnit_RestartsAlways_IsRateLimited_AndReadsItsOwnEnvironmentFile(string role)
    {
        var unit = Directives(Path.Combine(UnitDirectory, $"paas-{role}.service"));

        Assert.Equal("always", unit["Restart"]);
        Assert.Equal("1", unit["RestartSec"]);
        Assert.True(int.Parse(unit["StartLimitBurst"]) > 0 && int.Parse(unit["StartLimitIntervalSec"]) > 0);
        Assert.Equal($"/etc/paas/{role}.env", unit["EnvironmentFile"]);
        Assert.Equal("SIGTERM", unit["KillSignal"]);
        Assert.True(int.Parse(unit["TimeoutStopSec"]) is > 0 and <= 30);
        Assert.Contains("redis-server.service", unit["After"]);
        Assert.Contains("network-online.target", unit["Wants"]);
        if (role != "router")
            Assert.Contains("docker.service", unit["After"]);
        Assert.True(File.Exists(Path.Combine(UnitDirectory, $"{role}.env.example")), $"{role}.env.example is missing");
    }

    [Fact]
    public void TheRegistry_RestartsAlways_RunsTheStartScript_AndIsCollectedNightlyByARestart()
    {
        var unit = Directives(Path.Combine(UnitDirectory, "paas-registry.service"));
        Assert.Equal("always", unit["Restart"]);
        Assert.Equal("/etc/paas/registry.env", unit["EnvironmentFile"]);
        // start.sh garbage-collects before it serves: the only moment nothing writes to the store.
        Assert.Contains("/opt/paas/registry/start.sh ${PAAS_REGISTRY_BIND} ${PAAS_REGISTRY_PORT} ${PAAS_DATA_DIR}/registry", unit["ExecStart"]);
        Assert.True(File.Exists(Path.Combine(UnitDirectory, "registry.env.example")), "registry.env.example is missing");

        var gc = Directives(Path.Combine(UnitDirectory, "paas-registry-gc.service"));
        Assert.Equal("oneshot", gc["Type"]);
        Assert.Equal("/bin/systemctl try-restart paas-registry.service", gc["ExecStart"]);
        var timer = Directives(Path.Combine(UnitDirectory, "paas-registry-gc.timer"));
        Assert.Contains("03:30", timer["OnCalendar"]);
        Assert.Equal("true", timer["Persistent"]);
    }

    private static Dictionary<string, string> Directives(string file) =>
        File.ReadAllLines(file)
            .Where(line => line.Contains('=') && !line.TrimStart().StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .ToDictionary(kv => kv[0].Trim(), kv => kv[1].Trim());
}
