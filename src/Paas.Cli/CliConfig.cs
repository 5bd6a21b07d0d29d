namespace Paas.Cli;

/// <summary>Where the CLI finds the platform and its token: environment first, then the local data directory.</summary>
public sealed record CliConfig(string ApiUrl, string? Token, string TokenSource)
{
    public static CliConfig Load(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var port = read("PAAS_API_PORT") is { Length: > 0 } p ? p : "8090";
        var userDirectory = UserDirectory(read);
        // PAAS_API_URL, else the URL `paas login --api` saved, else the local platform.
        var api = read("PAAS_API_URL") is { Length: > 0 } url ? url.TrimEnd('/')
            : TryRead(Path.Combine(userDirectory, "api-url")) is { Length: > 0 } saved ? saved.TrimEnd('/')
            : $"http://localhost:{port}";
        if (read("PAAS_TOKEN") is { Length: > 0 } token)
            return new CliConfig(api, token, "PAAS_TOKEN");
        var userToken = Path.Combine(userDirectory, "token");
        if (TryRead(userToken) is { } fromUser)
            return new CliConfig(api, fromUser, userToken);
        var dataDir = read("PAAS_DATA_DIR") is { Length: > 0 } d ? d : "/var/lib/paas";
        var adminToken = Path.Combine(dataDir, "admin-token");
        return new CliConfig(api, TryRead(adminToken), adminToken);
    }

    /// <summary>Where `paas login` keeps the user's token and API URL: $XDG_CONFIG_HOME/paas or ~/.config/paas.</summary>
    public static string UserDirectory(Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        var home = read("HOME") ?? "/root";
        return Path.Combine(read("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : Path.Combine(home, ".config"), "paas");
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
