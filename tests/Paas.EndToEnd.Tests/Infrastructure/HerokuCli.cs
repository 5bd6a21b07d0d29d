using System.Text.Json;
using System.Text.RegularExpressions;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The real Heroku CLI (npm package `heroku`, installed by deploy/setup.sh) pointed at the test platform as one
/// user: HEROKU_HOST is the controller, HEROKU_API_KEY the user's Paas token, HEROKU_GIT_HOST the controller's
/// HTTPS port. Its HOME is its own, holding the ~/.netrc that `heroku login` would write for git, so git pushes
/// over HTTPS with that token and trusts the platform certificate (GIT_SSL_CAINFO).
/// </summary>
public sealed partial class HerokuCli
{
    public const string DefaultInstallDirectory = "/opt/paas/heroku-cli";

    private readonly PlatformFixture _platform;
    private readonly string _token;
    private readonly string _home;

    public HerokuCli(PlatformFixture platform, string token, string home)
    {
        _platform = platform;
        _token = token;
        _home = home;
        var cache = Path.Combine(home, "cache");
        Directory.CreateDirectory(cache);
        // The CLI refreshes this file from the npm registry in the background when it is missing or old;
        // a current one keeps the tests off the network.
        File.WriteAllText(Path.Combine(cache, "version"), JsonSerializer.Serialize(new { latest = InstalledVersion() }));
        File.WriteAllText(Path.Combine(home, ".netrc"), $"machine {GitHost.Split(':')[0]}\n  login heroku\n  password {token}\n");
        File.SetUnixFileMode(Path.Combine(home, ".netrc"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public static string InstallDirectory => System.Environment.GetEnvironmentVariable("PAAS_HEROKU_CLI_DIR") is { Length: > 0 } dir ? dir : DefaultInstallDirectory;

    public static string Binary => Path.Combine(InstallDirectory, "node_modules", ".bin", "heroku");

    /// <summary>Fails (never skips) with what to run when the CLI is missing.</summary>
    public static void EnsureInstalled()
    {
        if (!File.Exists(Binary))
            throw new InvalidOperationException($"The Heroku CLI is not installed at {Binary}: run `make test` or deploy/setup.sh, which install it from npm.");
    }

    private static string InstalledVersion() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(InstallDirectory, "node_modules", "heroku", "package.json"))).RootElement.GetProperty("version").GetString()!;

    /// <summary>The host:port the CLI writes into git remotes (https://GIT_HOST/APP.git); localhost, as the certificate names it.</summary>
    public string GitHost => $"localhost:{_platform.ApiTlsPort}";

    public Dictionary<string, string> Environment() => new()
    {
        ["HOME"] = _home,
        ["HEROKU_HOST"] = _platform.ApiUrl,
        ["HEROKU_API_KEY"] = _token,
        ["HEROKU_GIT_HOST"] = GitHost,
        // Its own directories, and nothing sent anywhere else: no analytics, telemetry, auto-update or
        // delinquency checks (those go to Heroku's own hosts, the token with them).
        ["HEROKU_CACHE_DIR"] = Path.Combine(_home, "cache"),
        ["HEROKU_CONFIG_DIR"] = Path.Combine(_home, "config"),
        ["HEROKU_DATA_DIR"] = Path.Combine(_home, "data"),
        ["HEROKU_SKIP_ANALYTICS"] = "1",
        ["DISABLE_TELEMETRY"] = "true",
        ["HEROKU_DISABLE_AUTOUPDATE"] = "1",
        ["HEROKU_PARTICLEBOARD_URL"] = _platform.ApiUrl,
        ["NO_COLOR"] = "1",
        ["GIT_SSL_CAINFO"] = _platform.CertificateFile,
        ["GIT_TERMINAL_PROMPT"] = "0",
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["PAAS_TOKEN"] = "",
    };

    public async Task<ProcessResult> RunAsync(string? workingDirectory, params string[] args)
    {
        var result = await ProcessRunner.RunAsync(Binary, args, workingDirectory, Environment(), TimeSpan.FromMinutes(4));
        // Progress spinners redraw with terminal escapes; tests read the text.
        return result with { Stdout = Plain(result.Stdout), Stderr = Plain(result.Stderr) };
    }

    public Task<ProcessResult> GitAsync(string workingDirectory, params string[] args) =>
        ProcessRunner.RunAsync("git", args, workingDirectory, Environment(), TimeSpan.FromMinutes(10));

    private static string Plain(string text) => Escapes().Replace(text, "");

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]")]
    private static partial Regex Escapes();
}
