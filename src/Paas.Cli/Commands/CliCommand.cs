namespace Paas.Cli.Commands;

/// <summary>
/// One `paas` command: its name, a one-line summary, its usage, what it does, and the options and positionals it
/// declares. The parser (System.CommandLine), `paas CMD --help`, README's command reference and the shell
/// completions are all built from these declarations, so an option exists once. Adding a command:
/// <code>
/// new("domains:add", "serve the app on a custom hostname", "paas domains:add HOSTNAME [-a APP] [--json]", AddAsync)
/// {
///     Arguments = [new("HOSTNAME", "the hostname to serve")],
///     Options = Opt.AppScoped(Opt.Json),
/// },
/// </code>
/// An option the command does not declare is an error (exit 2), so every option the handler reads must be here.
/// </summary>
public sealed record CliCommand(string Name, string Summary, string Usage, Func<ParsedArgs, CliContext, Task<int>> Run)
{
    /// <summary>Left out of `paas --help`, the command reference and completion: used by programs (git), not people.</summary>
    public bool Hidden { get; init; }

    /// <summary>The options the command takes (besides --help, which every command has).</summary>
    public IReadOnlyList<CliOption> Options { get; init; } = [];

    /// <summary>The positionals, in order. The handler checks their presence itself (its sentence names what is missing).</summary>
    public IReadOnlyList<CliArgument> Arguments { get; init; } = [];
}

/// <summary>
/// An option: its long name (the key handlers read with <see cref="ParsedArgs.Get"/>), the name of its value (null for a
/// flag), its help, and Heroku's short form where Heroku's CLI has one.
/// </summary>
public sealed record CliOption(string Name, string? Value, string Help)
{
    /// <summary>A one-letter form such as "-a".</summary>
    public string? Short { get; init; }

    /// <summary>Other long names that mean the same (e.g. Heroku's `--dyno` for `--ps`).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    public bool IsFlag => Value is null;

    /// <summary>Every spelling, short first: "-a", "--app".</summary>
    public IEnumerable<string> Spellings =>
        (Short is null ? [] : new[] { Short }).Append("--" + Name).Concat(Aliases);

    /// <summary>How help and the command reference show it: "-a, --app APP".</summary>
    public string Synopsis => string.Join(", ", Spellings) + (IsFlag ? "" : " " + Value);
}

/// <summary>A positional: its name in the usage, its help, and whether it repeats (NAME=VALUE...).</summary>
public sealed record CliArgument(string Name, string Help, bool Many = false);

/// <summary>The options many commands share, spelled once.</summary>
public static class Opt
{
    public static readonly CliOption App = new("app", "APP", "the app (default: the app of this directory's git remote that points at this platform)") { Short = "-a" };
    public static readonly CliOption Remote = new("remote", "REMOTE", "the git remote whose app to use (when several point at this platform)") { Short = "-r" };
    public static readonly CliOption Json = new("json", null, "print the result as JSON");
    public static readonly CliOption Confirm = new("confirm", "APP", "the app's name again, to confirm an irreversible change");
    public static readonly CliOption Num = new("num", "NUM", "how many to show") { Short = "-n" };
    public static readonly CliOption NoWait = new("no-wait", null, "return once the platform accepted the change, without waiting for the instances");
    public static readonly CliOption Help = new("help", null, "show this help") { Short = "-h" };

    /// <summary>-a APP and -r REMOTE (how an app-scoped command finds its app), then the command's own options.</summary>
    public static IReadOnlyList<CliOption> AppScoped(params CliOption[] more) => [App, Remote, .. more];
}
