using System.Diagnostics;
using System.Text.Json;

namespace Paas.Cli.Commands;

/// <summary>What commands share: the API client, output, and resolving which app a command is about.</summary>
public sealed class CliContext(CliConfig config, TextWriter stdout)
{
    public CliConfig Config { get; } = config;
    public ApiClient Api { get; } = new(config);
    public TextWriter Out { get; } = stdout;
    /// <summary>Progress and errors: stderr, so stdout holds only the result a script reads.</summary>
    public TextWriter Err { get; init; } = Console.Error;

    /// <summary>
    /// -a/--app, else the app of the git remote -r/--remote names, else of the one app that this directory's git
    /// remotes point at on this platform (whatever the remotes are called: `paas`, `heroku`, `origin`...).
    /// </summary>
    public string ResolveApp(ParsedArgs args, bool allowPositional = false)
    {
        if (args.Get("app") is { Length: > 0 } app)
            return app;
        if (allowPositional && args.Positionals.Count > 0)
            return args.Positionals[0];
        var remotes = GitRemotes();
        if (args.Get("remote") is { Length: > 0 } named)
        {
            if (!remotes.TryGetValue(named, out var url))
                throw new CliException($"This directory has no git remote named '{named}'.", 2);
            return AppOf(url, Config.ApiUrl) ?? throw new CliException($"The git remote '{named}' ({url}) does not point at this platform ({Config.ApiUrl}).", 2);
        }
        var apps = remotes
            .Select(r => (Remote: r.Key, App: AppOf(r.Value, Config.ApiUrl)))
            .Where(r => r.App is not null)
            .ToList();
        var distinct = apps.Select(r => r.App!).Distinct(StringComparer.Ordinal).ToList();
        return distinct.Count switch
        {
            1 => distinct[0],
            0 => throw new CliException("No app given: pass -a APP, or run this inside a git repository with a remote on this platform (paas git:remote -a APP).", 2),
            _ => throw new CliException($"Several git remotes point at apps on this platform ({string.Join(", ", apps.Select(r => $"{r.Remote}: {r.App}"))}): pass -a APP or -r REMOTE.", 2),
        };
    }

    /// <summary>The app a git remote URL names when it is on the platform at <paramref name="apiUrl"/> (same host: git is served over HTTP or HTTPS on another port), else null.</summary>
    public static string? AppOf(string remoteUrl, string apiUrl)
    {
        if (!Uri.TryCreate(remoteUrl.Trim(), UriKind.Absolute, out var remote) || remote.Scheme is not ("http" or "https")
            || !Uri.TryCreate(apiUrl, UriKind.Absolute, out var api))
            return null;
        if (!SameHost(remote.Host, api.Host))
            return null;
        var path = remote.AbsolutePath.TrimEnd('/');
        var name = path[(path.LastIndexOf('/') + 1)..];
        return path.Count(c => c == '/') == 1 && name.EndsWith(".git", StringComparison.Ordinal) && name.Length > 4 ? name[..^4] : null;
    }

    /// <summary>Loopback has several names; the CLI's localhost and git's 127.0.0.1 are the same platform.</summary>
    private static bool SameHost(string a, string b)
    {
        static string Normal(string host) => host is "localhost" or "127.0.0.1" or "[::1]" or "::1" ? "loopback" : host.ToLowerInvariant();
        return Normal(a) == Normal(b);
    }

    /// <summary>This directory's git remotes and their (fetch) URLs; none outside a repository.</summary>
    public static Dictionary<string, string> GitRemotes()
    {
        var remotes = new Dictionary<string, string>(StringComparer.Ordinal);
        var listing = Git("remote", "-v");
        if (listing.ExitCode != 0)
            return remotes;
        foreach (var line in listing.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2)
                remotes.TryAdd(parts[0], parts[1]);
        }
        return remotes;
    }

    /// <summary>A section heading (`=== Title`), bold on a terminal.</summary>
    public void WriteHeading(string title) =>
        Out.WriteLine(Terminal.Paint("=== " + title, Terminal.Bold, ReferenceEquals(Out, Console.Out) && Terminal.StdoutHasColour));

    public void WriteJson(JsonElement value) =>
        Out.WriteLine(JsonSerializer.Serialize(value, new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>--json for a typed answer: the API's own field names, as the API sent them.</summary>
    public void WriteJson<T>(T value) =>
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
