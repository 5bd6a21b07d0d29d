using System.Text.Json;

namespace Paas.Cli.Commands;

/// <summary>
/// `paas registry:login|logout` and `paas registry:logins`: an app's stored logins to image registries, which
/// `paas deploy:image` pulls with. The password is read from stdin only (never an argument, so it stays out of
/// shell history and process lists) and is never shown again.
/// </summary>
public static class RegistryCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("registry:login", "store the app's login to an image registry (password from stdin); deploy:image pulls from that registry with it",
            "paas registry:login REGISTRY -u USER --password-stdin [-a APP] [--json]", LoginAsync)
        {
            Arguments = [new("REGISTRY", "the registry host[:port] (a URL is accepted)")],
            Options = Opt.AppScoped(new CliOption("username", "USER", "the registry user") { Short = "-u" }, new CliOption("password-stdin", null, "read the password from standard input"), Opt.Json),
        },
        new("registry:logins", "list the app's registry logins (passwords masked)", "paas registry:logins [-a APP] [--json]", ListAsync) { Options = Opt.AppScoped(Opt.Json) },
        new("registry:logout", "remove the app's login to a registry", "paas registry:logout REGISTRY [-a APP]", LogoutAsync)
        {
            Arguments = [new("REGISTRY", "the registry host[:port]")],
            Options = Opt.AppScoped(),
        },
    ];

    private static string PathOf(string app) => $"v1/apps/{Uri.EscapeDataString(app)}/registry-credentials";

    private static async Task<int> LoginAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var registry = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which registry: paas registry:login REGISTRY -u USER --password-stdin", 2);
        var username = args.Get("username") ?? throw new CliException("Say which user: paas registry:login REGISTRY -u USER --password-stdin", 2);
        if (!args.Has("password-stdin"))
            throw new CliException("Give the password on stdin with --password-stdin (never as an argument).", 2);
        var password = Console.In.ReadLine()?.TrimEnd('\r', '\n') ?? "";
        if (password.Length == 0)
            throw new CliException("No password on stdin.", 2);
        var stored = await cli.Api.PutAsync($"{PathOf(app)}/{Uri.EscapeDataString(registry)}", new { username, password });
        if (args.Json)
        {
            cli.WriteJson(stored);
            return 0;
        }
        cli.Out.WriteLine($"Stored {app}'s login to {stored.GetProperty("registry").GetString()} as {stored.GetProperty("username").GetString()}.");
        return 0;
    }

    private static async Task<int> ListAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var logins = await cli.Api.GetAsync(PathOf(app));
        if (args.Json)
        {
            cli.WriteJson(logins);
            return 0;
        }
        if (logins.GetArrayLength() == 0)
        {
            cli.Out.WriteLine($"{app} has no registry logins.");
            return 0;
        }
        cli.Out.WriteLine($"=== {app} Registry Logins");
        foreach (var login in logins.EnumerateArray())
            cli.Out.WriteLine($"{login.GetProperty("registry").GetString()}  {login.GetProperty("username").GetString()}  {login.GetProperty("password").GetString()}");
        return 0;
    }

    private static async Task<int> LogoutAsync(ParsedArgs args, CliContext cli)
    {
        var app = cli.ResolveApp(args);
        var registry = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which registry: paas registry:logout REGISTRY", 2);
        await cli.Api.DeleteAsync($"{PathOf(app)}/{Uri.EscapeDataString(registry)}");
        cli.Out.WriteLine($"Removed {app}'s login to {registry}.");
        return 0;
    }
}
