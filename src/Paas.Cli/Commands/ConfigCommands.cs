using Paas.Core.Api;
using System.Text.Json;

namespace Paas.Cli.Commands;

/// <summary>Config vars: every change makes a new release and restarts the app's instances with it.</summary>
public static class ConfigCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("config", "list an app's config vars", "paas config [-a APP] [--shell | --json]", ListAsync) { Options = Opt.AppScoped(new CliOption("shell", null, "print NAME=VALUE lines for a shell or .env file"), Opt.Json) },
        new("config:get", "print one config var's value", "paas config:get NAME [-a APP]", GetAsync) { Arguments = [new("NAME", "the config var")], Options = Opt.AppScoped() },
        new("config:set", "set config vars; a new release rolls out", "paas config:set NAME=VALUE... [-a APP] [--json]", SetAsync) { Arguments = [new("NAME=VALUE", "a config var and its value", Many: true)], Options = Opt.AppScoped(Opt.Json) },
        new("config:unset", "remove config vars; a new release rolls out", "paas config:unset NAME... [-a APP] [--json]", UnsetAsync) { Arguments = [new("NAME", "a config var to remove", Many: true)], Options = Opt.AppScoped(Opt.Json) },
    ];

    private static string ConfigPath(CliContext cli, string app) => $"v1/apps/{Uri.EscapeDataString(app)}/config";

    private static async Task<int> ListAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var config = await cli.Api.GetAsync<Dictionary<string, string>>(ConfigPath(cli, app));
        if (args.Json)
        {
            cli.WriteJson(config);
            return 0;
        }
        var vars = config.Select(v => (Name: v.Key, Value: v.Value)).ToList();
        if (args.Has("shell"))
        {
            foreach (var v in vars)
                cli.Out.WriteLine($"{v.Name}={ShellQuote(v.Value)}");
            return 0;
        }
        cli.Out.WriteLine($"=== {app} Config Vars");
        var width = vars.Count == 0 ? 0 : vars.Max(v => v.Name.Length) + 1;
        foreach (var v in vars)
            cli.Out.WriteLine($"{(v.Name + ":").PadRight(width)} {v.Value}");
        return 0;
    }

    private static async Task<int> GetAsync(ParsedArgs args, CliContext cli)
    {
        var name = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which config var: paas config:get NAME", 2);
        var app = cli.ResolveApp(args);
        var config = await cli.Api.GetAsync<Dictionary<string, string>>(ConfigPath(cli, app));
        if (!config.TryGetValue(name, out var value))
            throw new CliException($"{name} is not set on {app}.");
        cli.Out.WriteLine(value);
        return 0;
    }

    private static Task<int> SetAsync(ParsedArgs args, CliContext cli)
    {
        if (args.Positionals.Count == 0)
            throw new CliException("Say what to set: paas config:set NAME=VALUE ...", 2);
        var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var pair in args.Positionals)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0)
                throw new CliException($"'{pair}' is not NAME=VALUE; to remove a var use `paas config:unset {pair}`.", 2);
            changes[pair[..eq]] = pair[(eq + 1)..];
        }
        return ApplyAsync(args, cli, changes, $"Setting {string.Join(", ", changes.Keys)}");
    }

    private static Task<int> UnsetAsync(ParsedArgs args, CliContext cli)
    {
        if (args.Positionals.Count == 0)
            throw new CliException("Say what to remove: paas config:unset NAME ...", 2);
        var changes = args.Positionals.ToDictionary(n => n, string? (_) => null, StringComparer.Ordinal);
        return ApplyAsync(args, cli, changes, $"Unsetting {string.Join(", ", changes.Keys)}");
    }

    private static async Task<int> ApplyAsync(ParsedArgs args, CliContext cli, Dictionary<string, string?> changes, string doing)
    {
        var app = cli.ResolveApp(args);
        if (!args.Json)
            cli.Out.Write($"{doing} and restarting {app}... ");
        cli.Out.Flush();
        ConfigChangeResponse result;
        try
        {
            result = await cli.Api.PatchAsync<ConfigChangeResponse>(ConfigPath(cli, app), changes);
        }
        catch (CliException)
        {
            if (!args.Json)
                cli.Out.WriteLine("failed");
            throw;
        }
        if (args.Json)
        {
            cli.WriteJson(result);
            return 0;
        }
        cli.Out.WriteLine(result.Release is { } release
            ? $"done, v{release}"
            : "done (no release yet: the vars apply from the first deploy)");
        return 0;
    }

    private static string ShellQuote(string value) =>
        value.All(c => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or '/' or ':' or '@') && value.Length > 0
            ? value
            : "'" + value.Replace("'", "'\\''") + "'";
}
