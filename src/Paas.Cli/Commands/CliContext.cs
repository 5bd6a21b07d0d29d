using System.Diagnostics;
using System.Text.Json;

namespace Paas.Cli.Commands;

/// <summary>What commands share: the API client, output, and resolving which app a command is about.</summary>
public sealed class CliContext(CliConfig config, TextWriter stdout)
{
    public CliConfig Config { get; } = config;
    public ApiClient Api { get; } = new(config);
    public TextWriter Out { get; } = stdout;

    /// <summary>-a/--app, else the app that the current directory's `paas` git remote points at.</summary>
    public string ResolveApp(ParsedArgs args, bool allowPositional = false)
    {
        if (args.Get("app") is { Length: > 0 } app)
            return app;
        if (allowPositional && args.Positionals.Count > 0)
            return args.Positionals[0];
        var remote = Git("remote", "get-url", "paas");
        if (remote.ExitCode == 0)
        {
            var url = remote.Output.Trim().TrimEnd('/');
            var name = url[(url.LastIndexOf('/') + 1)..];
            if (name.EndsWith(".git", StringComparison.Ordinal))
                return name[..^4];
        }
        throw new CliException("No app given: pass -a APP, or run this inside a git repository with a `paas` remote.", 2);
    }

    /// <summary>A section heading (`=== Title`), bold on a terminal.</summary>
    public void WriteHeading(string title) =>
        Out.WriteLine(Terminal.Paint("=== " + title, Terminal.Bold, ReferenceEquals(Out, Console.Out) && Terminal.StdoutHasColour));

    public void WriteJson(JsonElement value) =>
        Out.WriteLine(JsonSerializer.Serialize(value, new JsonSerializerOptions { WriteIndented = true }));

    public static (int ExitCode, string Output) Git(params string[] args)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new CliException("git is not installed or not on PATH.");
        }
    }
}
