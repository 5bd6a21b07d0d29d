using Paas.Core.Api;
using System.Text.Json;

namespace Paas.Cli.Commands;

public static class ReleaseCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("releases", "list an app's releases, newest first", "paas releases [-a APP] [-n NUM] [--json]", ListAsync)
        {
            Options = Opt.AppScoped(Opt.Num, Opt.Json),
        },
        new("releases:info", "show one release: image, commit, process types, config", "paas releases:info [vN] [-a APP] [--json]", InfoAsync)
        {
            Arguments = [new("vN", "the release (default: the current one)")],
            Options = Opt.AppScoped(Opt.Json),
        },
        new("releases:output", "show the build output of a release, as its push printed it (the last 1 MB)", "paas releases:output [vN] [-a APP] [--json]", OutputAsync)
        {
            Arguments = [new("vN", "the release (default: the current one)")],
            Options = Opt.AppScoped(Opt.Json),
        },
        new("releases:rollback", "roll back to an earlier release (as a new release with its image and config)", "paas releases:rollback vN [-a APP] [--no-wait] [--json]", RollbackAsync)
        {
            Arguments = [new("vN", "the release to go back to")],
            Options = Opt.AppScoped(Opt.NoWait, Opt.Json),
        },
        new("rollback", "alias of releases:rollback", "paas rollback vN [-a APP] [--no-wait] [--json]", RollbackAsync)
        {
            Arguments = [new("vN", "the release to go back to")],
            Options = Opt.AppScoped(Opt.NoWait, Opt.Json),
        },
        new("deploy:image", "deploy a prebuilt image from a registry as a new release (--password-stdin reads the registry password, for this pull only; else the app's registry:login for that registry)",
            "paas deploy:image REGISTRY/REPO:TAG [-a APP] [--username USER --password-stdin] [--json]", DeployImageAsync)
            {
                Arguments = [new("IMAGE", "REGISTRY/REPO:TAG")],
                Options = Opt.AppScoped(
                    new CliOption("username", "USER", "the registry user"),
                    new CliOption("password-stdin", null, "read the registry password from standard input"),
                    Opt.Json),
            },
    ];

    private static string ReleasesPath(string app) => $"v1/apps/{Uri.EscapeDataString(app)}/releases";

    private static async Task<int> ListAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var limit = args.Get("num") is { } n ? n : "20";
        if (!int.TryParse(limit, out var count) || count < 1 || count > 1000)
            throw new CliException($"-n must be a number from 1 to 1000, not '{limit}'.", 2);
        var releases = await cli.Api.GetAsync<List<ReleaseResponse>>($"{ReleasesPath(app)}?limit={count}");
        if (args.Json)
        {
            cli.WriteJson(releases);
            return 0;
        }
        if (releases.Count == 0)
        {
            cli.Out.WriteLine($"{app} has no releases yet. Deploy with `git push paas main`.");
            return 0;
        }
        cli.Out.WriteLine($"=== {app} Releases");
        foreach (var r in releases)
        {
            var current = r.Current ? "  (current)" : "";
            // A deploy that did not simply become a release says how it ended.
            var note = r.Status == "released"
                ? r.Resumed ? "  [released, resumed after a controller restart]" : ""
                : $"  [{r.Status}{(r.StatusReason is { Length: > 0 } ? ": " + r.StatusReason : "")}]";
            cli.Out.WriteLine($"v{r.Version,-4} {r.Description,-36} {r.CreatedAt:yyyy-MM-dd HH:mm:ss}{current}{note}");
        }
        return 0;
    }

    private static async Task<string> VersionAsync(ParsedArgs args, CliContext cli, string app)
    {
        if (args.Positionals.FirstOrDefault() is { } version)
            return version;
        var latest = await cli.Api.GetAsync<List<ReleaseResponse>>($"{ReleasesPath(app)}?limit=1");
        if (latest.Count == 0)
            throw new CliException($"{app} has no releases yet.");
        return latest[0].Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<int> OutputAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var version = await VersionAsync(args, cli, app);
        var result = await cli.Api.GetAsync($"{ReleasesPath(app)}/{Uri.EscapeDataString(version)}/output");
        if (args.Json)
            cli.WriteJson(result);
        else
            cli.Out.Write(result.GetProperty("output").GetString());
        return 0;
    }

    private static async Task<int> InfoAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var version = await VersionAsync(args, cli, app);
        var release = await cli.Api.GetAsync<ReleaseResponse>($"{ReleasesPath(app)}/{Uri.EscapeDataString(version)}");
        if (args.Json)
        {
            cli.WriteJson(release);
            return 0;
        }
        cli.Out.WriteLine($"=== Release v{release.Version} of {app}");
        cli.Out.WriteLine($"Description: {release.Description}");
        cli.Out.WriteLine($"Created:     {release.CreatedAt:yyyy-MM-dd HH:mm:ss}");
        cli.Out.WriteLine($"Commit:      {release.Commit}");
        cli.Out.WriteLine($"Buildpack:   {release.Buildpack}");
        cli.Out.WriteLine($"Image:       {release.Image}");
        cli.Out.WriteLine($"Current:     {(release.Current ? "yes" : "no")}");
        cli.Out.WriteLine($"Status:      {release.Status}{(release.StatusReason is { Length: > 0 } reason ? $" ({reason})" : "")}");
        cli.Out.WriteLine("Process types:");
        // A deploy that failed before its image existed has no process types.
        foreach (var (type, command) in release.ProcessTypes ?? new Dictionary<string, string>())
            cli.Out.WriteLine($"  {type}: {command}");
        if (release.Config is { } config)
        {
            cli.Out.WriteLine("Config vars:");
            foreach (var (name, value) in config)
                cli.Out.WriteLine($"  {name}: {value}");
        }
        return 0;
    }

    private static async Task<int> DeployImageAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var image = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which image to deploy: paas deploy:image REGISTRY/REPO:TAG", 2);
        var username = args.Get("username");
        string? password = null;
        if (args.Has("password-stdin"))
        {
            if (username is null)
                throw new CliException("--password-stdin needs --username too.", 2);
            password = Console.In.ReadLine()?.TrimEnd('\r', '\n') ?? "";
        }
        if (!args.Json)
            cli.Out.WriteLine($"Deploying {image} to {app}...");
        cli.Out.Flush();
        var result = await cli.Api.PostAsync($"v1/apps/{Uri.EscapeDataString(app)}/deploys/image", new { image, username, password });
        if (args.Json)
        {
            cli.WriteJson(result);
            return 0;
        }
        foreach (var line in result.GetProperty("output").EnumerateArray())
            cli.Out.WriteLine(line.GetString());
        return 0;
    }

    private static async Task<int> RollbackAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var text = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which release to roll back to: paas releases:rollback vN", 2);
        var digits = text.TrimStart('v', 'V');
        if (!int.TryParse(digits, out var version) || version < 1)
            throw new CliException($"'{text}' is not a release version; use e.g. v3 (see `paas releases`).", 2);
        return await OperationProgressView.FollowAsync(cli, args, HttpMethod.Post, $"{ReleasesPath(app)}/rollback", new { version }, $"Rolling back {app} to v{version}",
            outcome => $"done, v{outcome.Release}: {OperationProgressView.Health(outcome)}");
    }
}
