using Paas.EndToEnd.Tests.Infrastructure;

namespace Paas.EndToEnd.Tests;

/// <summary>
/// The operator's two commands for a second machine: deploy/cluster-secrets.sh (on the controller's host) and
/// deploy/join-cell.sh (on the new host). A dry run prints every step and changes nothing; bad input is one sentence.
/// </summary>
public sealed class JoinCellScriptTests : IDisposable
{
    private static readonly string Deploy = Path.Combine(RepoPaths.Root, "deploy");
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("paas-join-").FullName;

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);

    private static Task<ProcessResult> RunAsync(string script, params string[] args) =>
        ProcessRunner.RunAsync(Path.Combine(Deploy, script), args, null, new Dictionary<string, string>(), TimeSpan.FromSeconds(60));

    private async Task<string> SecretsFileAsync()
    {
        var secrets = await RunAsync("cluster-secrets.sh", "--data-dir", _dataDirectory, "--address", "10.0.0.1");
        Assert.True(secrets.ExitCode == 0, secrets.ToString());
        var file = Path.Combine(_dataDirectory, "cluster.env");
        await File.WriteAllTextAsync(file, secrets.Stdout);
        return file;
    }

    [Fact]
    public async Task ClusterSecrets_MakesThemOnce_Privately_AndPrintsTheSameEachTime()
    {
        var first = await RunAsync("cluster-secrets.sh", "--data-dir", _dataDirectory, "--address", "10.0.0.1");
        var second = await RunAsync("cluster-secrets.sh", "--data-dir", _dataDirectory, "--address", "10.0.0.1");

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(first.Stdout, second.Stdout);
        foreach (var key in new[] { "PAAS_CELL_SECRET=", "PAAS_REDIS=10.0.0.1:6379", "PAAS_REGISTRY=10.0.0.1:5000", "PAAS_REGISTRY_USERNAME=paas", "PAAS_REGISTRY_PASSWORD=" })
            Assert.Contains(key, first.Stdout);
        foreach (var file in new[] { "cell-secret", "registry/password", "registry/htpasswd" })
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dataDirectory, file)));
    }

    [Fact]
    public async Task JoinCell_DryRun_PrintsEveryStep_ShowsNoSecret_AndChangesNothing()
    {
        var secrets = await SecretsFileAsync();
        var watched = new[] { "/etc/paas/cell.env", "/etc/docker/daemon.json", "/etc/systemd/system/paas-cell.service" }
            .ToDictionary(f => f, f => File.Exists(f) ? File.GetLastWriteTimeUtc(f) : DateTime.MinValue);

        var result = await RunAsync("join-cell.sh", "10.0.0.1", "--secrets", secrets, "--name", "c2", "--address", "10.0.0.2", "--dry-run");

        Assert.True(result.ExitCode == 0, result.ToString());
        var steps = result.Stdout;
        Assert.Contains("apt-get install -y -q docker.io", steps);
        Assert.Contains("insecure-registries", steps);
        Assert.Contains("10.0.0.1:5000", steps);
        Assert.Contains("would write /etc/paas/cell.env (mode 600)", steps);
        Assert.Contains("PAAS_CELL_NAME=c2", steps);
        Assert.Contains("PAAS_CELL_ADDRESS=10.0.0.2", steps);
        Assert.Contains("systemctl enable --now paas-cell.service", steps);
        Assert.Contains("Dry run done: 6 steps, nothing changed.", steps);
        var cellSecret = (await File.ReadAllTextAsync(Path.Combine(_dataDirectory, "cell-secret"))).Trim();
        var registryPassword = (await File.ReadAllTextAsync(Path.Combine(_dataDirectory, "registry", "password"))).Trim();
        Assert.DoesNotContain(cellSecret, steps);
        Assert.DoesNotContain(registryPassword, steps);
        foreach (var (file, before) in watched)
            Assert.Equal(before, File.Exists(file) ? File.GetLastWriteTimeUtc(file) : DateTime.MinValue);
    }

    /// <summary>A tarball shaped as `make cell-bundle` makes it (paas-cell/Paas.Cell at least), or <paramref name="entry"/> instead.</summary>
    private async Task<string> BundleAsync(string entry = "Paas.Cell")
    {
        var staging = Path.Combine(_dataDirectory, "bundle-src", "paas-cell");
        Directory.CreateDirectory(staging);
        await File.WriteAllTextAsync(Path.Combine(staging, entry), "#!/bin/sh\n");
        var bundle = Path.Combine(_dataDirectory, $"bundle-{entry}.tar.gz");
        var tar = await ProcessRunner.RunAsync("tar", ["-C", Path.GetDirectoryName(staging)!, "-czf", bundle, "paas-cell"], null, new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        Assert.True(tar.ExitCode == 0, tar.ToString());
        return bundle;
    }

    [Fact]
    public async Task JoinCell_DryRun_WithABundleFile_UnpacksIt_AndNeedsNoDotnet()
    {
        var secrets = await SecretsFileAsync();
        var bundle = await BundleAsync();

        var result = await RunAsync("join-cell.sh", "10.0.0.1", "--secrets", secrets, "--name", "c2", "--address", "10.0.0.2", "--bundle", bundle, "--dry-run");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"would run: tar -xzf {bundle} -C /opt/paas/cell.new --strip-components=1", result.Stdout);
        Assert.Contains("would run: mv /opt/paas/cell.new /opt/paas/cell", result.Stdout);
        Assert.DoesNotContain("dotnet", result.Stdout);
        Assert.Contains("Dry run done: 6 steps, nothing changed.", result.Stdout);
    }

    [Fact]
    public async Task JoinCell_DryRun_WithABundleUrl_DownloadsItFirst()
    {
        var secrets = await SecretsFileAsync();

        var result = await RunAsync("join-cell.sh", "10.0.0.1", "--secrets", secrets, "--name", "c2", "--address", "10.0.0.2",
            "--bundle", "http://10.0.0.1:8000/paas-cell-linux-x64.tar.gz", "--dry-run");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n');
        int At(string text) => Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        Assert.True(At("would run: curl -fsSL --retry 3 -o /tmp/paas-cell-bundle.tar.gz http://10.0.0.1:8000/paas-cell-linux-x64.tar.gz") >= 0, result.Stdout);
        Assert.True(At("would run: tar -xzf /tmp/paas-cell-bundle.tar.gz") > At("would run: curl"), result.Stdout);
    }

    [Fact]
    public async Task JoinCell_ATarballThatIsNotABundle_IsRefusedWithOneSentence()
    {
        var notABundle = await BundleAsync("Paas.Cell.dll");

        var result = await RunAsync("join-cell.sh", "10.0.0.1", "--bundle", notABundle, "--dry-run");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Equal($"join-cell.sh: {notABundle} is not a cell bundle: it holds no paas-cell/Paas.Cell (make it with `make cell-bundle`).", result.Stderr.Trim());
    }

    [Fact]
    public async Task JoinCell_Help_ExitsZero_AndNamesTheSteps()
    {
        var result = await RunAsync("join-cell.sh", "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("usage: join-cell.sh CONTROLLER_ADDR --secrets FILE", result.Stdout);
        Assert.Contains("--dry-run", result.Stdout);
        Assert.Contains("--bundle FILE|URL", result.Stdout);
    }

    public static readonly TheoryData<string[], string> BadArguments = new()
    {
        { [], "give the controller's address" },
        { ["10.0.0.1", "--frobnicate"], "unknown option '--frobnicate'" },
        { ["10.0.0.1", "10.0.0.2", "--dry-run"], "one controller address only" },
        { ["10.0.0.1", "--name", "Not_A_Label", "--dry-run"], "must be a DNS label" },
        { ["10.0.0.1", "--port", "99999", "--dry-run"], "'99999' is not a port" },
        { ["10.0.0.1", "--secrets", "/nonexistent/cluster.env", "--dry-run"], "cannot read the secrets file" },
        { ["10.0.0.1", "--secrets"], "--secrets needs a value" },
        { ["10.0.0.1", "--bundle", "/nonexistent/paas-cell.tar.gz", "--dry-run"], "cannot read the agent bundle /nonexistent/paas-cell.tar.gz" },
        { ["10.0.0.1", "--bundle"], "--bundle needs a value" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public async Task JoinCell_BadArguments_ExitNonZero_WithOneSentence(string[] args, string reason)
    {
        var result = await RunAsync("join-cell.sh", args);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("", result.Stdout);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("join-cell.sh: ", line);
        Assert.Contains(reason, line);
    }
}
