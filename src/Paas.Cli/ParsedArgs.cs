namespace Paas.Cli;

/// <summary>Command-line arguments split into positionals and options (--name value, --flag, -a value).</summary>
public sealed class ParsedArgs
{
    private static readonly Dictionary<string, string> ShortNames = new() { ["-a"] = "app", ["-h"] = "help", ["-n"] = "num", ["-c"] = "command", ["-u"] = "username" };
    private static readonly HashSet<string> Flags = ["help", "json", "port", "tail", "admin", "shell", "no-sticky-cookie", "password-stdin"];

    public List<string> Positionals { get; } = [];
    public Dictionary<string, string> Options { get; } = new();
    /// <summary>Everything after a bare "--", untouched.</summary>
    public List<string> Rest { get; } = [];

    public static ParsedArgs Parse(IEnumerable<string> args)
    {
        var parsed = new ParsedArgs();
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var arg = e.Current;
            if (arg == "--")
            {
                while (e.MoveNext()) parsed.Rest.Add(e.Current);
                break;
            }
            string? name = null;
            string? value = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                var eq = arg.IndexOf('=');
                name = eq > 0 ? arg[2..eq] : arg[2..];
                value = eq > 0 ? arg[(eq + 1)..] : null;
            }
            else if (ShortNames.TryGetValue(arg, out var longName))
            {
                name = longName;
            }
            if (name is null)
            {
                parsed.Positionals.Add(arg);
                continue;
            }
            if (value is null && !Flags.Contains(name))
            {
                if (!e.MoveNext())
                    throw new CliException($"Option --{name} needs a value.", 2);
                value = e.Current;
            }
            parsed.Options[name] = value ?? "true";
        }
        return parsed;
    }

    public bool Has(string name) => Options.ContainsKey(name);

    public string? Get(string name) => Options.GetValueOrDefault(name);

    public bool Json => Has("json");
}
