using System.Globalization;
using System.Text.Json;

namespace Paas.Cli.Commands;

/// <summary>Add-ons: PostgreSQL and Redis servers the platform runs for an app, their URL in a config var.</summary>
public static class AddonCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("addons", "list add-ons: state, plan, host, size on disk", "paas addons [-a APP] [--json]", ListAsync) { Options = Opt.AppScoped(Opt.Json) },
        new("addons:create", "create a PostgreSQL or Redis add-on; its URL is set as DATABASE_URL / REDIS_URL (a new release)",
            "paas addons:create postgresql[:hobby|small|standard] | redis[:PLAN] [-a APP] [--json]", CreateAsync) { Arguments = [new("SERVICE[:PLAN]", "postgresql or redis, with an optional plan")], Options = Opt.AppScoped(Opt.Json) },
        new("addons:destroy", "destroy an add-on: its server, its data and its config var", "paas addons:destroy NAME [-a APP] --confirm APP", DestroyAsync) { Arguments = [new("NAME", "the add-on to destroy")], Options = Opt.AppScoped(Opt.Confirm) },
        new("pg:psql", "run SQL in the app's PostgreSQL add-on (-c SQL, or SQL on standard input)", "paas pg:psql [-a APP] [-c SQL]", PsqlAsync) { Options = Opt.AppScoped(new CliOption("command", "SQL", "the SQL to run (default: standard input)") { Short = "-c" }) },
        new("pg:backups", "list the app's PostgreSQL backups", "paas pg:backups [-a APP] [--json]", BackupsAsync) { Options = Opt.AppScoped(Opt.Json) },
        new("pg:backups:capture", "back up the app's PostgreSQL add-on now (pg_dump, kept on the controller)", "paas pg:backups:capture [-a APP] [--json]", CaptureAsync) { Options = Opt.AppScoped(Opt.Json) },
        new("pg:backups:restore", "replace the database's contents with a backup's", "paas pg:backups:restore ID [-a APP] --confirm APP", RestoreAsync) { Arguments = [new("ID", "the backup to restore")], Options = Opt.AppScoped(Opt.Confirm) },
        new("pg:backups:download", "save a backup's dump (pg_restore format) to a file", "paas pg:backups:download ID [-a APP] [--output FILE]", DownloadAsync) { Arguments = [new("ID", "the backup to download")], Options = Opt.AppScoped(new CliOption("output", "FILE", "where to save the dump")) },
        new("redis:cli", "run a command in the app's Redis add-on", "paas redis:cli [-a APP] -c 'COMMAND ARGS'", RedisCliAsync) { Options = Opt.AppScoped(new CliOption("command", "COMMAND", "the Redis command to run, with its arguments") { Short = "-c" }) },
    ];

    private static string AddonsPath(string app) => $"v1/apps/{Uri.EscapeDataString(app)}/addons";

    private static async Task<int> ListAsync(ParsedArgs args, CliContext cli)
    {
        // Without -a and outside an app's repository: every add-on the caller may see.
        string? app;
        try
        {
            app = cli.ResolveApp(args);
        }
        catch (CliException)
        {
            app = null;
        }
        var list = await cli.Api.GetAsync(app is null ? "v1/addons" : AddonsPath(app));
        if (args.Json)
        {
            cli.WriteJson(list);
            return 0;
        }
        var rows = list.EnumerateArray().ToList();
        if (rows.Count == 0)
        {
            cli.Out.WriteLine(app is null ? "No add-ons." : $"{app} has no add-ons.");
            return 0;
        }
        cli.Out.WriteLine($"{"NAME",-22} {"APP",-16} {"PLAN",-20} {"STATE",-18} {"HOST",-34} {"CELL",-10} {"SIZE",8}  VAR");
        foreach (var a in rows)
        {
            var size = a.GetProperty("size_bytes") is { ValueKind: JsonValueKind.Number } s ? FormatSize(s.GetInt64()) : "-";
            cli.Out.WriteLine($"{a.GetProperty("id").GetString(),-22} {a.GetProperty("app").GetString(),-16} "
                + $"{a.GetProperty("service").GetString() + ":" + a.GetProperty("plan").GetString(),-20} {a.GetProperty("state").GetString(),-18} "
                + $"{a.GetProperty("host").GetString(),-34} {a.GetProperty("cell").GetString(),-10} {size,8}  {a.GetProperty("config_var").GetString()}");
        }
        return 0;
    }

    private static async Task<int> CreateAsync(ParsedArgs args, CliContext cli)
    {
        var service = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which service: paas addons:create postgresql -a APP (or redis)", 2);
        var app = cli.ResolveApp(args);
        if (!args.Json)
        {
            cli.Out.Write($"Creating {service} on {app} and setting its URL... ");
            cli.Out.Flush();
        }
        JsonElement created;
        try
        {
            created = await cli.Api.PostAsync(AddonsPath(app), new { service });
        }
        catch (CliException)
        {
            if (!args.Json)
                cli.Out.WriteLine("failed");
            throw;
        }
        if (args.Json)
        {
            cli.WriteJson(created);
            return 0;
        }
        cli.Out.WriteLine("done");
        cli.Out.WriteLine($"{created.GetProperty("id").GetString()} is {created.GetProperty("state").GetString()} on cell {created.GetProperty("cell").GetString()}; "
            + $"{created.GetProperty("config_var").GetString()} is set on {app} (see `paas config -a {app}`).");
        return 0;
    }

    private static async Task<int> DestroyAsync(ParsedArgs args, CliContext cli)
    {
        var name = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which add-on: paas addons:destroy NAME -a APP --confirm APP", 2);
        var app = cli.ResolveApp(args);
        var confirm = args.Get("confirm");
        if (confirm != app)
            throw new CliException($"This deletes {name} and all its data for good. To proceed, run again with --confirm {app}.", 1);
        await cli.Api.DeleteAsync($"{AddonsPath(app)}/{Uri.EscapeDataString(name)}?confirm={Uri.EscapeDataString(confirm)}");
        cli.Out.WriteLine($"Destroyed {name} on {app}: its server, its volume and its config var are gone.");
        return 0;
    }

    private static string BackupsPath(string app) => $"v1/apps/{Uri.EscapeDataString(app)}/backups";

    private static async Task<int> BackupsAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var list = await cli.Api.GetAsync(BackupsPath(app));
        if (args.Json)
        {
            cli.WriteJson(list);
            return 0;
        }
        var rows = list.EnumerateArray().ToList();
        if (rows.Count == 0)
        {
            cli.Out.WriteLine($"{app} has no backups; capture one with `paas pg:backups:capture -a {app}`.");
            return 0;
        }
        cli.Out.WriteLine($"{"ID",-6} {"CREATED (UTC)",-20} {"SIZE",10} {"SECONDS",8}  ADD-ON");
        foreach (var b in rows)
        {
            var created = b.GetProperty("created_at").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            cli.Out.WriteLine($"{b.GetProperty("id").GetString(),-6} {created,-20} {FormatSize(b.GetProperty("size_bytes").GetInt64()),10} "
                + $"{b.GetProperty("seconds").GetDouble().ToString("0.00", CultureInfo.InvariantCulture),8}  {b.GetProperty("addon").GetString()}");
        }
        return 0;
    }

    private static async Task<int> CaptureAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        JsonElement? backup = null;
        string? error = null;
        await cli.Api.PostStreamingAsync(BackupsPath(app), new { }, line =>
        {
            if (line.TryGetProperty("progress", out var progress) && !args.Json)
                cli.Out.WriteLine(progress.GetString());
            else if (line.TryGetProperty("backup", out var b))
                backup = b.Clone();
            else if (line.TryGetProperty("error", out var e))
                error = e.GetString();
            return Task.CompletedTask;
        });
        if (backup is not { } done)
            throw new CliException(error ?? "The backup ended without a result.");
        if (args.Json)
        {
            cli.WriteJson(done);
            return 0;
        }
        cli.Out.WriteLine($"Backup {done.GetProperty("id").GetString()} of {done.GetProperty("addon").GetString()}: "
            + $"{FormatSize(done.GetProperty("size_bytes").GetInt64())} in {done.GetProperty("seconds").GetDouble().ToString("0.00", CultureInfo.InvariantCulture)} s");
        return 0;
    }

    private static async Task<int> RestoreAsync(ParsedArgs args, CliContext cli)
    {
        var id = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which backup: paas pg:backups:restore ID -a APP --confirm APP", 2);
        var app = cli.ResolveApp(args);
        if (args.Get("confirm") != app)
            throw new CliException($"Restoring {id} replaces everything in {app}'s database. To proceed, run again with --confirm {app}.", 1);
        await cli.Api.PostAsync($"{BackupsPath(app)}/{Uri.EscapeDataString(id)}/restore?confirm={Uri.EscapeDataString(app)}", new { });
        cli.Out.WriteLine($"Restored {id} into {app}'s database.");
        return 0;
    }

    private static async Task<int> DownloadAsync(ParsedArgs args, CliContext cli)
    {
        var id = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which backup: paas pg:backups:download ID -a APP", 2);
        var app = cli.ResolveApp(args);
        var output = args.Get("output") ?? $"{app}-{id}.dump";
        await using (var body = await cli.Api.OpenStreamAsync($"{BackupsPath(app)}/{Uri.EscapeDataString(id)}/download", CancellationToken.None))
        await using (var file = File.Create(output))
            await body.CopyToAsync(file);
        cli.Out.WriteLine($"Saved {id} to {output} ({FormatSize(new FileInfo(output).Length)}; pg_restore reads it).");
        return 0;
    }

    private static Task<int> PsqlAsync(ParsedArgs args, CliContext cli) => ClientAsync(args, cli, "postgresql");

    private static Task<int> RedisCliAsync(ParsedArgs args, CliContext cli) => ClientAsync(args, cli, "redis");

    private static async Task<int> ClientAsync(ParsedArgs args, CliContext cli, string kind)
    {
        var app = cli.ResolveApp(args);
        var command = args.Get("command");
        string? input = null;
        if (command is null)
        {
            if (!Console.IsInputRedirected)
                cli.Out.WriteLine($"Reading from standard input until end of file (Ctrl-D); or pass -c.");
            input = await Console.In.ReadToEndAsync();
        }
        var result = await cli.Api.PostAsync($"{AddonsPath(app)}/client", new { kind, command, input });
        cli.Out.Write(result.GetProperty("output").GetString());
        return (int)Math.Min(result.GetProperty("exit_code").GetInt64(), 255);
    }

    private static string FormatSize(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MB",
        _ => (bytes / 1024).ToString(CultureInfo.InvariantCulture) + " kB",
    };
}
