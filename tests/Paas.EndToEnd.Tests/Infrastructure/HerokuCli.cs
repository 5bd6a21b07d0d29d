using System.Text.Json;
using System.Text.RegularExpressions;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The real Heroku CLI (npm package `heroku`, installed by deploy/setup.sh: the current 11.x and the previous 10.x, each
/// in its own directory) pointed at the test platform as one
/// user: HEROKU_HOST is the controller, HEROKU_API_KEY the user's Paas token, HEROKU_GIT_HOST the controller's
/// HTTPS port. Its HOME is its own, holding the ~/.netrc that `heroku login` would write for git, so git pushes
/// over HTTPS with that token and trusts the platform certificate (GIT_SSL_CAINFO).
/// </summary>
public sealed partial class HerokuCli
{
    /// <summary>Where deploy/setup.sh installs the current major (11.x), unless PAAS_HEROKU_CLI_DIR says.</summary>
    public static string Current => Directory("PAAS_HEROKU_CLI_DIR", "/opt/paas/heroku-cli-11");

    /// <summary>Where deploy/setup.sh installs the previous major (10.x), unless PAAS_HEROKU_CLI_PREVIOUS_DIR says.</summary>
    public static string Previous => Directory("PAAS_HEROKU_CLI_PREVIOUS_DIR", "/opt/paas/heroku-cli");

    private readonly PlatformFixture _platform;
    private readonly string _token;
    private readonly string _home;

    /// <param name="installDirectory"><see cref="Current"/> (the default) or <see cref="Previous"/>.</param>
    public HerokuCli(PlatformFixture platform, string token, string home, string? installDirectory = null)
    {
        InstallDirectory = installDirectory ?? Current;
        _platform = platform;
        _token = token;
        _home = home;
        var cache = Path.Combine(home, "cache");
        System.IO.Directory.CreateDirectory(cache);
        // The CLI refreshes this file from the npm registry in the background when it is missing or old;
        // a current one keeps the tests off the network.
        File.WriteAllText(Path.Combine(cache, "version"), JsonSerializer.Serialize(new { latest = InstalledVersion() }));
        File.WriteAllText(Path.Combine(home, ".netrc"), $"machine {GitHost.Split(':')[0]}\n  login heroku\n  password {token}\n");
        File.SetUnixFileMode(Path.Combine(home, ".netrc"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static string Directory(string variable, string fallback) =>
        System.Environment.GetEnvironmentVariable(variable) is { Length: > 0 } dir ? dir : fallback;

    public string InstallDirectory { get; }

    public string Binary => BinaryIn(InstallDirectory);

    private static string BinaryIn(string installDirectory) => Path.Combine(installDirectory, "node_modules", ".bin", "heroku");

    /// <summary>Fails (never skips) with what to run when the CLI is missing.</summary>
    public static void EnsureInstalled(string? installDirectory = null)
    {
        var binary = BinaryIn(installDirectory ?? Current);
        if (!File.Exists(binary))
            throw new InvalidOperationException($"The Heroku CLI is not installed at {binary}: run `make test` or deploy/setup.sh, which install it from npm.");
    }

    public string InstalledVersion() =>
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
        // `heroku run` attaches over TLS (the rendezvous port) and verifies the platform certificate.
        ["NODE_EXTRA_CA_CERTS"] = _platform.CertificateFile,
        ["GIT_TERMINAL_PROMPT"] = "0",
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["PAAS_TOKEN"] = "",
    };

    public Task<ProcessResult> RunAsync(string? workingDirectory, params string[] args) => RunWithInputAsync(workingDirectory, null, args);

    /// <summary>With <paramref name="stdin"/> as the answers to the CLI's prompts (certs:add asks which domains to associate).</summary>
    public async Task<ProcessResult> RunWithInputAsync(string? workingDirectory, string? stdin, params string[] args)
    {
        var result = await ProcessRunner.RunAsync(Binary, args, workingDirectory, Environment(), TimeSpan.FromMinutes(4), stdin);
        // Progress spinners redraw with terminal escapes; tests read the text.
        return result with { Stdout = Plain(result.Stdout), Stderr = Plain(result.Stderr) };
    }

    public Task<ProcessResult> GitAsync(string workingDirectory, params string[] args) =>
        ProcessRunner.RunAsync("git", args, workingDirectory, Environment(), TimeSpan.FromMinutes(10));

    private static string Plain(string text) => Escapes().Replace(text, "");

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]")]
    private static partial Regex Escapes();
}
