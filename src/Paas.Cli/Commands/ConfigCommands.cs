using Paas.Core.Api;
using System.Text.Json;

namespace Paas.Cli.Commands;

/// <summary>Config vars: every change makes a new release and restarts the app's instances with it.</summary>
public static class ConfigCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("config", "list an app's config vars", "paas config [-a APP] [--shell | --json]", ListAsync)
        {
            Options = Opt.AppScoped(new CliOption("shell", null, "print NAME=VALUE lines for a shell or .env file"), Opt.Json),
        },
        new("config:get", "print one config var's value", "paas config:get NAME [-a APP]", GetAsync)
        {
            Arguments = [new("NAME", "the config var")],
            Options = Opt.AppScoped(),
        },
        new("config:set", "set config vars; a new release rolls out", "paas config:set NAME=VALUE... [-a APP] [--no-wait] [--json]", SetAsync)
        {
            Arguments = [new("NAME=VALUE", "a config var and its value", Many: true)],
            Options = Opt.AppScoped(Opt.NoWait, Opt.Json),
        },
        new("config:unset", "remove config vars; a new release rolls out", "paas config:unset NAME... [-a APP] [--no-wait] [--json]", UnsetAsync)
        {
            Arguments = [new("NAME", "a config var to remove", Many: true)],
            Options = Opt.AppScoped(Opt.NoWait, Opt.Json),
        },
        new("config:edit", "edit config vars in $EDITOR (else $VISUAL, else vi) as NAME=VALUE lines; saving applies the changes as one release", "paas config:edit [-a APP] [--no-wait] [--json]", EditAsync)
        {
            Options = Opt.AppScoped(Opt.NoWait, Opt.Json),
        },
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

    private static Task<int> ApplyAsync(ParsedArgs args, CliContext cli, Dictionary<string, string?> changes, string doing)
    {
        var app = cli.ResolveApp(args);
        // The new release's instances turning healthy, and the old ones stopping, are shown as they happen.
        return OperationProgressView.FollowAsync(cli, args, HttpMethod.Patch, ConfigPath(cli, app), changes, $"{doing} and restarting {app}",
            outcome => outcome.Deployed
                ? $"done, v{outcome.Release}: {OperationProgressView.Health(outcome)}"
                : $"done, v{outcome.Release} (not deployed yet: the vars apply from the first deploy)");
    }

    /// <summary>
    /// Heroku's config:edit: the current vars as NAME=VALUE lines in a private temporary file, the user's editor on it,
    /// then only the difference is applied — one config change, one release; nothing changed, nothing released.
    /// </summary>
    private static async Task<int> EditAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var before = await cli.Api.GetAsync<Dictionary<string, string>>(ConfigPath(cli, app));
        var path = Path.Combine(Path.GetTempPath(), $"paas-config-{app}-{Guid.NewGuid():N}.env");
        try
        {
            // Values are secrets: the file is the user's alone, created so before anything is written to it.
            using (var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
            using (var writer = new StreamWriter(file))
            {
                await writer.WriteAsync($"# Config vars of {app}: one NAME=VALUE a line; delete a line to remove the var. Lines starting with # are ignored.\n");
                foreach (var (name, value) in before.OrderBy(v => v.Key, StringComparer.Ordinal))
                    await writer.WriteAsync($"{name}={EncodeValue(value)}\n");
            }
            var editor = new[] { "EDITOR", "VISUAL" }.Select(Environment.GetEnvironmentVariable).FirstOrDefault(e => !string.IsNullOrWhiteSpace(e)) ?? "vi";
            // Through the shell, as git does, so EDITOR may carry arguments ("code --wait").
            var start = new System.Diagnostics.ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            foreach (var arg in new[] { "-c", editor + " \"$1\"", "sh", path })
                start.ArgumentList.Add(arg);
            using (var process = System.Diagnostics.Process.Start(start) ?? throw new CliException($"Could not start the editor '{editor}'."))
            {
                await process.WaitForExitAsync();
                if (process.ExitCode != 0)
                    throw new CliException($"The editor '{editor}' exited with code {process.ExitCode}; {app}'s config is unchanged.");
            }
            var after = ParseEdited(await File.ReadAllLinesAsync(path));
            var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var (name, value) in after)
                if (!before.TryGetValue(name, out var old) || old != value)
                    changes[name] = value;
            foreach (var name in before.Keys.Where(n => !after.ContainsKey(n)))
                changes[name] = null;
            if (changes.Count == 0)
            {
                if (args.Json)
                    cli.WriteJson(new { changed = Array.Empty<string>() });
                else
                    cli.Out.WriteLine($"No changes to {app}'s config: no release made.");
                return 0;
            }
            var set = changes.Where(c => c.Value is not null).Select(c => c.Key).ToList();
            var unset = changes.Where(c => c.Value is null).Select(c => c.Key).ToList();
            var doing = string.Join(", ", new[] { set.Count > 0 ? "Setting " + string.Join(", ", set) : null, unset.Count > 0 ? "unsetting " + string.Join(", ", unset) : null }.OfType<string>());
            return await ApplyAsync(args, cli, changes, char.ToUpperInvariant(doing[0]) + doing[1..]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A value with a line break (a PEM key) is written as a JSON string, so it survives the round trip through a line-based file.</summary>
    private static string EncodeValue(string value) =>
        value.Contains('\n') || value.Contains('\r') || (value.StartsWith('"') && value.EndsWith('"') && value.Length >= 2)
            ? JsonSerializer.Serialize(value)
            : value;

    public static Dictionary<string, string> ParseEdited(IEnumerable<string> lines)
    {
        var vars = new Dictionary<string, string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var line in lines)
        {
            number++;
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
                continue;
            var eq = line.IndexOf('=');
            var name = eq > 0 ? line[..eq].Trim() : "";
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                throw new CliException($"Line {number} is not NAME=VALUE: '{line}'; the config is unchanged.", 2);
            var value = line[(eq + 1)..];
            if (value.Length >= 2 && value.StartsWith('"') && value.EndsWith('"'))
            {
                try
                {
                    value = JsonSerializer.Deserialize<string>(value) ?? "";
                }
                catch (JsonException)
                {
                    throw new CliException($"Line {number} has a quoted value that is not a valid JSON string; the config is unchanged.", 2);
                }
            }
            vars[name] = value;
        }
        return vars;
    }

    private static string ShellQuote(string value) =>
        value.All(c => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or '/' or ':' or '@') && value.Length > 0
            ? value
            : "'" + value.Replace("'", "'\\''") + "'";
}
