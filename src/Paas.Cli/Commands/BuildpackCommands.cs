using System.Text.Json;

namespace Paas.Cli.Commands;

/// <summary>`paas buildpacks[:set|:add|:remove|:clear]` and `paas builds:cache:purge`, as in Heroku's CLI.</summary>
public static class BuildpackCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("buildpacks", "list the app's buildpacks (none: detected at each push)", "paas buildpacks [-a APP] [--json]", ListAsync) { Options = Opt.AppScoped(Opt.Json) },
        new("buildpacks:set", "set the app's buildpacks, in order (or replace the one at -i N)", "paas buildpacks:set BUILDPACK... [-i N] [-a APP]", SetAsync) { Arguments = [new("BUILDPACK", "a buildpack name or URL", Many: true)], Options = Opt.AppScoped(new CliOption("index", "N", "the buildpack's position, from 1") { Short = "-i" }) },
        new("buildpacks:add", "add a buildpack (at the end, or at position -i N)", "paas buildpacks:add BUILDPACK [-i N] [-a APP]", AddAsync) { Arguments = [new("BUILDPACK", "a buildpack name or URL")], Options = Opt.AppScoped(new CliOption("index", "N", "the buildpack's position, from 1") { Short = "-i" }) },
        new("buildpacks:remove", "remove a buildpack, by name/URL or by -i N", "paas buildpacks:remove [BUILDPACK | -i N] [-a APP]", RemoveAsync) { Arguments = [new("BUILDPACK", "a buildpack name or URL")], Options = Opt.AppScoped(new CliOption("index", "N", "the buildpack's position, from 1") { Short = "-i" }) },
        new("buildpacks:clear", "clear the app's buildpacks (back to detection)", "paas buildpacks:clear [-a APP]", ClearAsync) { Options = Opt.AppScoped() },
        new("builds:cache:purge", "empty the app's build cache; the next build starts cold", "paas builds:cache:purge [-a APP]", PurgeAsync) { Options = Opt.AppScoped() },
    ];

    private static string PathOf(string app) => $"v1/apps/{Uri.EscapeDataString(app)}/buildpacks";

    private static async Task<int> ListAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var list = await cli.Api.GetAsync(PathOf(app));
        if (args.Json)
        {
            cli.WriteJson(list);
            return 0;
        }
        Print(cli, app, list);
        return 0;
    }

    private static async Task<int> SetAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var position = Index(args);
        if (args.Positionals.Count == 0)
            throw new CliException("Name at least one buildpack: paas buildpacks:set BUILDPACK...", 2);
        JsonElement list;
        if (position is { } index)
        {
            if (args.Positionals.Count != 1)
                throw new CliException("With -i, give exactly one buildpack.", 2);
            var current = (await cli.Api.GetAsync(PathOf(app))).EnumerateArray().Select(b => b.GetProperty("buildpack").GetString()!).ToList();
            if (index > current.Count + 1)
                throw new CliException($"Index {index} is out of range: use 1 to {current.Count + 1}.", 2);
            if (index == current.Count + 1) current.Add(args.Positionals[0]); else current[index - 1] = args.Positionals[0];
            list = await cli.Api.PutAsync(PathOf(app), new { buildpacks = current });
        }
        else
        {
            list = await cli.Api.PutAsync(PathOf(app), new { buildpacks = args.Positionals });
        }
        Print(cli, app, list);
        return 0;
    }

    private static async Task<int> AddAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var position = Index(args);
        if (args.Positionals.Count != 1)
            throw new CliException("Name one buildpack: paas buildpacks:add BUILDPACK [-i N]", 2);
        Print(cli, app, await cli.Api.PostAsync(PathOf(app), new { buildpack = args.Positionals[0], index = position }));
        return 0;
    }

    private static async Task<int> RemoveAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var query = Index(args) is { } index
            ? $"?index={index}"
            : args.Positionals.Count == 1
                ? $"?buildpack={Uri.EscapeDataString(args.Positionals[0])}"
                : throw new CliException("Name the buildpack to remove, or its position with -i N.", 2);
        Print(cli, app, await cli.Api.DeleteAsync(PathOf(app) + query));
        return 0;
    }

    private static async Task<int> ClearAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        await cli.Api.DeleteAsync(PathOf(app));
        cli.Out.WriteLine($"Buildpacks cleared for {app}: the next push detects its buildpack.");
        return 0;
    }

    private static async Task<int> PurgeAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var result = await cli.Api.DeleteAsync($"v1/apps/{Uri.EscapeDataString(app)}/build-cache");
        var bytes = result.ValueKind == JsonValueKind.Object ? result.GetProperty("purged_bytes").GetInt64() : 0;
        cli.Out.WriteLine($"Build cache of {app} purged ({bytes / 1024.0 / 1024:0.0} MB): the next build starts cold.");
        return 0;
    }

    /// <summary>The position from `-i N` / `--index N`.</summary>
    private static int? Index(ParsedArgs args)
    {
        if (args.Get("index") is not { } text)
            return null;
        return int.TryParse(text, out var index) && index >= 1
            ? index
            : throw new CliException($"-i needs a position of 1 or more, not '{text}'.", 2);
    }

    private static void Print(CliContext cli, string app, JsonElement list)
    {
        var items = list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().ToList() : [];
        if (items.Count == 0)
        {
            cli.Out.WriteLine($"{app} has no buildpacks set: each push detects one among the built-ins.");
            return;
        }
        cli.Out.WriteLine($"=== {app} Buildpack{(items.Count == 1 ? "" : "s")}");
        foreach (var item in items)
            cli.Out.WriteLine($"{item.GetProperty("index").GetInt32()}. {item.GetProperty("buildpack").GetString()}");
    }
}
