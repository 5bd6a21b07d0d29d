using System.Diagnostics;

namespace Paas.Cli.Tests;

/// <summary>Runs the built `paas` (paas.dll next to the tests) with no platform behind it, for commands that need none.</summary>
public static class CliProcess
{
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => RunInAsync(null, args);

    /// <summary>Runs it in <paramref name="directory"/> (a git repository whose remotes say which app), or the test's own.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunInAsync(string? directory, params string[] args) =>
        RunAgainstAsync("http://127.0.0.1:9", directory, args);

    /// <summary>Runs it against the API at <paramref name="apiUrl"/> (a <see cref="FakeApi"/>).</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAgainstAsync(string apiUrl, string? directory, params string[] args) =>
        RunAgainstAsync(apiUrl, directory, new Dictionary<string, string>(), args);

    /// <summary>As above, with extra environment variables (EDITOR for config:edit).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAgainstAsync(string apiUrl, string? directory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (directory is not null)
            start.WorkingDirectory = directory;
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "paas.dll"));
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        // Nothing listens here: a command that tried the API would fail fast rather than reach a real platform.
        start.Environment["PAAS_API_URL"] = apiUrl;
        start.Environment["PAAS_TOKEN"] = "test-token";
        start.Environment.Remove("NO_COLOR");
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The repository root, found upward from the test binaries (README.md next to Paas.sln).</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Paas.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("Paas.sln not found above " + AppContext.BaseDirectory);
    }
}
