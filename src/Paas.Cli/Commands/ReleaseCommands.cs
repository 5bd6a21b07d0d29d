namespace Paas.Cli.Commands;

public static class ReleaseCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("releases", "list an app's releases, newest first", "paas releases [-a APP] [--json]", ListAsync),
        new("ps", "list an app's instances", "paas ps [-a APP] [--json]", PsAsync),
    ];

    private static async Task<int> ListAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var releases = await cli.Api.GetAsync($"v1/apps/{Uri.EscapeDataString(app)}/releases");
        if (args.Json)
        {
            cli.WriteJson(releases);
            return 0;
        }
        cli.Out.WriteLine($"=== {app} Releases");
        foreach (var r in releases.EnumerateArray())
        {
            var commit = r.GetProperty("commit").GetString() ?? "";
            cli.Out.WriteLine($"v{r.GetProperty("version").GetInt32(),-4} Deploy {commit[..Math.Min(7, commit.Length)]}  {r.GetProperty("buildpack").GetString(),-10} {r.GetProperty("created_at").GetDateTimeOffset():yyyy-MM-dd HH:mm:ss}");
        }
        return 0;
    }

    private static async Task<int> PsAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var instances = await cli.Api.GetAsync($"v1/apps/{Uri.EscapeDataString(app)}/ps");
        if (args.Json)
        {
            cli.WriteJson(instances);
            return 0;
        }
        if (instances.GetArrayLength() == 0)
        {
            cli.Out.WriteLine($"{app} has no instances. Deploy with: git push paas main");
            return 0;
        }
        cli.Out.WriteLine($"=== {app} instances");
        foreach (var i in instances.EnumerateArray())
            cli.Out.WriteLine($"{i.GetProperty("id").GetString(),-8} v{i.GetProperty("release").GetInt32(),-4} {i.GetProperty("state").GetString(),-9} cell {i.GetProperty("cell").GetString()}  since {i.GetProperty("since").GetDateTimeOffset():yyyy-MM-dd HH:mm:ss}");
        return 0;
    }
}
