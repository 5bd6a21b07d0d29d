using System.Text;

namespace Paas.Cli.Commands;

/// <summary>Who you are to the platform: log in with a token, see it, make more, revoke them; operators manage users.</summary>
public static class AuthCommands
{
    public static IEnumerable<CliCommand> All() =>
    [
        new("login", "save an API token (and API URL) for this user after checking it", "paas login [--token TOKEN | < token-file] [--api URL]", LoginAsync) { Options = [new CliOption("token", "TOKEN", "the API token (default: read from standard input)"), new CliOption("api", "URL", "the platform's API URL, saved for later commands")] },
        new("logout", "forget the saved token", "paas logout", LogoutAsync),
        new("whoami", "show the user the current token belongs to", "paas whoami [--json]", WhoAmIAsync) { Options = [Opt.Json] },
        new("auth:token", "print the current API token (for scripts and HEROKU_API_KEY)", "paas auth:token", TokenAsync),
        new("tokens", "list your API tokens", "paas tokens [--json]", TokensAsync) { Options = [Opt.Json] },
        new("tokens:create", "create another API token for yourself (shown once)", "paas tokens:create [--description TEXT] [--json]", CreateTokenAsync) { Options = [new CliOption("description", "TEXT", "what the token is for"), Opt.Json] },
        new("tokens:revoke", "revoke one of your API tokens", "paas tokens:revoke ID", RevokeTokenAsync) { Arguments = [new("ID", "the token's id (see paas tokens)")] },
        new("users", "list users (operators)", "paas users [--json]", UsersAsync) { Options = [Opt.Json] },
        new("users:create", "create a user and print their first token (operators)", "paas users:create NAME [--admin] [--json]", CreateUserAsync) { Arguments = [new("NAME", "the user's name")], Options = [new CliOption("admin", null, "make the user an operator"), Opt.Json] },
        new("users:remove", "remove a user and revoke their tokens (operators)", "paas users:remove NAME", RemoveUserAsync) { Arguments = [new("NAME", "the user to remove")] },
    ];

    private static async Task<int> LoginAsync(ParsedArgs args, CliContext cli)
    {
        var api = args.Get("api")?.TrimEnd('/') ?? cli.Config.ApiUrl;
        if (!Uri.TryCreate(api, UriKind.Absolute, out var apiUri) || apiUri.Scheme is not ("http" or "https"))
            throw new CliException($"'{api}' is not an http(s) URL.", 2);
        var token = args.Get("token") ?? ReadToken();
        if (string.IsNullOrWhiteSpace(token))
            throw new CliException("No token given: pass --token TOKEN or pipe it on standard input.", 2);
        token = token.Trim();
        var account = await new ApiClient(cli.Config with { ApiUrl = api, Token = token }).GetAsync("v1/account");
        var directory = CliConfig.UserDirectory();
        Directory.CreateDirectory(directory);
        WritePrivate(Path.Combine(directory, "token"), token);
        WritePrivate(Path.Combine(directory, "api-url"), api);
        cli.Out.WriteLine($"Logged in to {api} as {account.GetProperty("name").GetString()}");
        return 0;
    }

    private static string? ReadToken()
    {
        if (!Console.IsInputRedirected)
        {
            Console.Error.Write("API token (input hidden): ");
            var token = new StringBuilder();
            for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
            {
                if (key.Key == ConsoleKey.Backspace && token.Length > 0)
                    token.Length--;
                else if (!char.IsControl(key.KeyChar))
                    token.Append(key.KeyChar);
            }
            Console.Error.WriteLine();
            return token.ToString();
        }
        return Console.In.ReadLine();
    }

    /// <summary>The token file is readable by its owner only, created so from the start (no window where it is not).</summary>
    private static void WritePrivate(string path, string content)
    {
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        using var writer = new StreamWriter(path, Encoding.UTF8, options);
        writer.WriteLine(content);
    }

    private static Task<int> LogoutAsync(ParsedArgs args, CliContext cli)
    {
        var path = Path.Combine(CliConfig.UserDirectory(), "token");
        if (!File.Exists(path))
        {
            cli.Out.WriteLine("Not logged in: no saved token.");
            return Task.FromResult(0);
        }
        File.Delete(path);
        cli.Out.WriteLine($"Logged out: removed {path}. The token itself stays valid until revoked (`paas tokens:revoke`).");
        return Task.FromResult(0);
    }

    private static async Task<int> WhoAmIAsync(ParsedArgs args, CliContext cli)
    {
        var account = await cli.Api.GetAsync("v1/account");
        if (args.Json)
        {
            cli.WriteJson(account);
            return 0;
        }
        cli.Out.WriteLine($"{account.GetProperty("name").GetString()} ({account.GetProperty("role").GetString()})");
        return 0;
    }

    private static async Task<int> TokenAsync(ParsedArgs args, CliContext cli)
    {
        // Checked first, so a revoked token is not handed to a script as if it worked.
        await cli.Api.GetAsync("v1/account");
        cli.Out.WriteLine(cli.Config.Token);
        return 0;
    }

    private static async Task<int> TokensAsync(ParsedArgs args, CliContext cli)
    {
        var tokens = await cli.Api.GetAsync("v1/account/tokens");
        if (args.Json)
        {
            cli.WriteJson(tokens);
            return 0;
        }
        cli.Out.WriteLine("=== API tokens");
        foreach (var t in tokens.EnumerateArray())
        {
            var current = t.GetProperty("current").GetBoolean() ? "  (this one)" : "";
            cli.Out.WriteLine($"{t.GetProperty("id").GetString(),-14} {t.GetProperty("created_at").GetDateTimeOffset():yyyy-MM-dd HH:mm}  {t.GetProperty("description").GetString()}{current}");
        }
        return 0;
    }

    private static async Task<int> CreateTokenAsync(ParsedArgs args, CliContext cli)
    {
        var token = await cli.Api.PostAsync("v1/account/tokens", new { description = args.Get("description") ?? "" });
        if (args.Json)
        {
            cli.WriteJson(token);
            return 0;
        }
        cli.Out.WriteLine($"Created token {token.GetProperty("id").GetString()}; it is shown only this once:");
        cli.Out.WriteLine(token.GetProperty("token").GetString());
        return 0;
    }

    private static async Task<int> RevokeTokenAsync(ParsedArgs args, CliContext cli)
    {
        var id = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which token to revoke: paas tokens:revoke ID (see `paas tokens`).", 2);
        await cli.Api.DeleteAsync($"v1/account/tokens/{Uri.EscapeDataString(id)}");
        cli.Out.WriteLine($"Revoked token {id}.");
        return 0;
    }

    private static async Task<int> UsersAsync(ParsedArgs args, CliContext cli)
    {
        var users = await cli.Api.GetAsync("v1/users");
        if (args.Json)
        {
            cli.WriteJson(users);
            return 0;
        }
        cli.Out.WriteLine("=== Users");
        foreach (var u in users.EnumerateArray())
            cli.Out.WriteLine($"{u.GetProperty("name").GetString(),-30} {u.GetProperty("role").GetString()}");
        return 0;
    }

    private static async Task<int> CreateUserAsync(ParsedArgs args, CliContext cli)
    {
        var name = args.Positionals.FirstOrDefault() ?? throw new CliException("A user name is required: paas users:create NAME", 2);
        var user = await cli.Api.PostAsync("v1/users", new { name, role = args.Has("admin") ? "admin" : "user" });
        if (args.Json)
        {
            cli.WriteJson(user);
            return 0;
        }
        cli.Out.WriteLine($"Created user {name} ({user.GetProperty("role").GetString()}). Their token, shown only this once:");
        cli.Out.WriteLine(user.GetProperty("token").GetString());
        cli.Out.WriteLine($"They log in with: paas login --api {cli.Config.ApiUrl} (and paste it)");
        return 0;
    }

    private static async Task<int> RemoveUserAsync(ParsedArgs args, CliContext cli)
    {
        var name = args.Positionals.FirstOrDefault() ?? throw new CliException("Say which user to remove: paas users:remove NAME", 2);
        await cli.Api.DeleteAsync($"v1/users/{Uri.EscapeDataString(name)}");
        cli.Out.WriteLine($"Removed user {name} and revoked their tokens.");
        return 0;
    }
}
