namespace Paas.Cli;

/// <summary>A command's arguments once parsed (see Parsing/CommandLine): positionals, options by long name, and what follows "--".</summary>
public sealed class ParsedArgs
{
    public List<string> Positionals { get; } = [];
    /// <summary>Option values by long name ("app"); a flag's value is "true".</summary>
    public Dictionary<string, string> Options { get; } = new();
    /// <summary>Everything after a bare "--", untouched.</summary>
    public List<string> Rest { get; } = [];

    public bool Has(string name) => Options.ContainsKey(name);

    public string? Get(string name) => Options.GetValueOrDefault(name);

    public bool Json => Has("json");
}
