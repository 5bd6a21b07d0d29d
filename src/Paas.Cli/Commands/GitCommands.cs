namespace Paas.Cli.Commands;

public static class GitCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("git:remote", "add the `paas` git remote for an app and set up push credentials", "paas git:remote [APP | -a APP] [--remote NAME]", RemoteAsync) { Arguments = [new("APP", "the app (or -a APP)")], Options = [Opt.App, new CliOption("remote", "NAME", "the git remote to add or update (default: paas)") { Short = "-r" }] },
        new("git:credential", "git credential helper (used by git, not by people)", "paas git:credential get|store|erase", CredentialAsync) { Hidden = true, Arguments = [new("ACTION", "get, store or erase", Many: true)] },
    ];

    /// <summary>
    /// Adds the remote and a credential helper scoped to the platform's URL, so the token is handed to git
    /// on demand and never written into the remote URL, the git config or logs.
    /// </summary>
    private static async Task<int> RemoteAsync(ParsedArgs args, CliContext cli)
    {
        var name = cli.ResolveApp(args, allowPositional: true);
        var app = await cli.Api.GetAsync($"v1/apps/{Uri.EscapeDataString(name)}");
        var gitUrl = app.GetProperty("git_url").GetString()!;
        var remote = args.Get("remote") ?? "paas";
        if (CliContext.Git("rev-parse", "--git-dir").ExitCode != 0)
            throw new CliException("This directory is not a git repository: run `git init` first.");
        var existing = CliContext.Git("remote", "get-url", remote);
        var set = existing.ExitCode == 0
            ? CliContext.Git("remote", "set-url", remote, gitUrl)
            : CliContext.Git("remote", "add", remote, gitUrl);
        if (set.ExitCode != 0)
            throw new CliException($"git could not set the remote '{remote}'.");
        var origin = new Uri(gitUrl).GetLeftPart(UriPartial.Authority);
        CliContext.Git("config", "--local", "--unset-all", $"credential.{origin}.helper");
        // An empty helper first resets any helper from the global config for this URL only.
        CliContext.Git("config", "--local", "--add", $"credential.{origin}.helper", "");
        CliContext.Git("config", "--local", "--add", $"credential.{origin}.helper", $"!{SelfCommand()} git:credential");
        CliContext.Git("config", "--local", $"credential.{origin}.username", "paas");
        cli.Out.WriteLine($"set git remote {remote} to {gitUrl}");
        return 0;
    }

    private static async Task<int> CredentialAsync(ParsedArgs args, CliContext cli)
    {
        if (args.Positionals.FirstOrDefault() != "get")
            return 0; // store and erase: the token lives with the CLI, not with git
        // git passes protocol/host lines; drain them so it never blocks writing to us.
        while (await Console.In.ReadLineAsync() is { Length: > 0 })
        {
        }
        if (cli.Config.Token is null)
            return 1;
        cli.Out.WriteLine("username=paas");
        cli.Out.WriteLine($"password={cli.Config.Token}");
        return 0;
    }

    /// <summary>How git should run this very CLI: the apphost directly, or `dotnet paas.dll` when started that way.</summary>
    private static string SelfCommand()
    {
        var process = Environment.ProcessPath ?? "paas";
        if (Path.GetFileNameWithoutExtension(process) == "dotnet")
            return $"'{process}' '{typeof(GitCommands).Assembly.Location}'";
        return $"'{process}'";
    }
}
