namespace Paas.Cli.Commands;

public static class ReleaseCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("releases", "list an app's releases, newest first", "paas releases [-a APP] [--json]", ListAsync),
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
}
