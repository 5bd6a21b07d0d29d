namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>Whom the CLI and git act as: a token (PAAS_TOKEN), or none so a saved login is used; optionally a HOME of their own.</summary>
public sealed record ClientIdentity(string? Token, string? Home = null)
{
    public Dictionary<string, string> Apply(Dictionary<string, string> environment)
    {
        environment["PAAS_TOKEN"] = Token ?? "";
        if (Home is not null)
        {
            Directory.CreateDirectory(Home);
            environment["HOME"] = Home;
            environment["XDG_CONFIG_HOME"] = Path.Combine(Home, ".config");
            // No fallback to the operator's token file: only what this user logged in with counts.
            environment["PAAS_DATA_DIR"] = Path.Combine(Home, "no-data-dir");
        }
        return environment;
    }
}
