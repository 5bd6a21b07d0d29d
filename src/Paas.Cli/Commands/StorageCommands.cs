using System.Text.Json;

namespace Paas.Cli.Commands;

/// <summary>Persistent directories for an app's process types (Dokku's storage:mount).</summary>
public static class StorageCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("storage:list", "list the app's persistent directories: process type, path, volume, cell", "paas storage:list [-a APP] [--json]", ListAsync)
        {
            Options = Opt.AppScoped(Opt.Json),
        },
        new("storage:mount", "give a process type a persistent directory (pinned to one cell; one instance unless --shared)",
            "paas storage:mount PATH [-a APP] [--process TYPE] [--shared] [--json]", MountAsync)
        {
            Arguments = [new("PATH", "the absolute path inside the container, e.g. /data")],
            Options = Opt.AppScoped(new CliOption("process", "TYPE", "the process type (default: web)"), new CliOption("shared", null, "let several instances (all on the volume's cell) share it"), Opt.Json),
        },
        new("storage:unmount", "remove a persistent directory from a process type (its data stays on the cell)",
            "paas storage:unmount PATH [-a APP] [--process TYPE] [--json]", UnmountAsync)
        {
            Arguments = [new("PATH", "the mounted path")],
            Options = Opt.AppScoped(new CliOption("process", "TYPE", "the process type (default: web)"), Opt.Json),
        },
    ];

    private static string StoragePath(string app) => $"v1/apps/{Uri.EscapeDataString(app)}/storage";

    private static async Task<int> ListAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var list = await cli.Api.GetAsync(StoragePath(app));
        if (args.Json)
        {
            cli.WriteJson(list);
            return 0;
        }
        var rows = list.EnumerateArray().ToList();
        if (rows.Count == 0)
        {
            cli.Out.WriteLine($"{app} has no persistent directories; add one with `paas storage:mount /data -a {app}`.");
            return 0;
        }
        cli.Out.WriteLine($"{"PROCESS",-10} {"PATH",-24} {"CELL",-12} {"SHARED",-7} VOLUME");
        foreach (var v in rows)
        {
            var cell = v.GetProperty("cell") is { ValueKind: JsonValueKind.String } c ? c.GetString() : "(not placed)";
            cli.Out.WriteLine($"{v.GetProperty("process").GetString(),-10} {v.GetProperty("path").GetString(),-24} {cell,-12} "
                + $"{(v.GetProperty("shared").GetBoolean() ? "yes" : "no"),-7} {v.GetProperty("volume").GetString()}");
        }
        return 0;
    }

    private static async Task<int> MountAsync(ParsedArgs args, CliContext cli)
    {
        var path = args.Positionals.FirstOrDefault() ?? throw new CliException("Say where: paas storage:mount /data -a APP [--process TYPE] [--shared]", 2);
        var app = cli.ResolveApp(args);
        var result = await cli.Api.PostAsync(StoragePath(app), new { path, process = args.Get("process"), shared = args.Has("shared") });
        return Report(args, cli, result, $"Mounted a persistent directory at {path} for");
    }

    private static async Task<int> UnmountAsync(ParsedArgs args, CliContext cli)
    {
        var path = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which: paas storage:unmount /data -a APP", 2);
        var app = cli.ResolveApp(args);
        var query = $"?path={Uri.EscapeDataString(path)}" + (args.Get("process") is { } process ? $"&process={Uri.EscapeDataString(process)}" : "");
        var result = await cli.Api.DeleteAsync(StoragePath(app) + query);
        return Report(args, cli, result, $"Unmounted {path} from");
    }

    private static int Report(ParsedArgs args, CliContext cli, JsonElement result, string what)
    {
        if (args.Json)
        {
            cli.WriteJson(result);
            return 0;
        }
        var volume = result.GetProperty("volume");
        var restarted = result.GetProperty("restarted").GetInt32();
        cli.Out.WriteLine($"{what} {volume.GetProperty("process").GetString()} (volume {volume.GetProperty("volume").GetString()}); "
            + (restarted == 0 ? "it takes effect as instances start." : $"{restarted} instance(s) restarted with it."));
        var problems = result.GetProperty("problems").EnumerateArray().Select(p => p.GetString()).ToList();
        foreach (var problem in problems)
            Console.Error.WriteLine($" !     {problem}");
        return problems.Count == 0 ? 0 : 1;
    }
}
