using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;
using Paas.Cli.Commands;

namespace Paas.Cli.Parsing;

/// <summary>
/// The System.CommandLine tree built from the command table: one subcommand per <see cref="CliCommand"/>, with the
/// options and positionals it declares. Parsing yields the <see cref="ParsedArgs"/> handlers read, or a one-sentence
/// usage error (exit 2) naming what was wrong, e.g. the unknown option.
/// </summary>
public sealed class CommandLine
{
    private readonly RootCommand root = new("paas: push-to-deploy apps");
    private readonly Dictionary<Command, Entry> entries = [];
    private readonly ParserConfiguration configuration = new() { ResponseFileTokenReplacer = null };

    private sealed record Entry(CliCommand Cli, Option<bool> Help, List<(CliOption Declared, Option Option)> Options, List<Argument> Arguments);

    public CommandLine(IEnumerable<CliCommand> commands)
    {
        // paas itself answers --help and --version (Program); the root only holds the commands.
        root.Options.Clear();
        foreach (var cli in commands)
        {
            var command = new Command(cli.Name, cli.Summary);
            var help = new Option<bool>("--help", "-h") { Description = Opt.Help.Help };
            command.Options.Add(help);
            var options = new List<(CliOption, Option)>();
            foreach (var declared in cli.Options)
            {
                var aliases = new[] { declared.Short }.OfType<string>().Concat(declared.Aliases).ToArray();
                Option option = declared.IsFlag
                    ? new Option<bool>("--" + declared.Name, aliases) { Description = declared.Help }
                    : new Option<string>("--" + declared.Name, aliases) { Description = declared.Help, HelpName = declared.Value };
                command.Options.Add(option);
                options.Add((declared, option));
            }
            // Presence is the handler's check (its sentence says what is missing), so the parser accepts none.
            var arguments = cli.Arguments
                .Select(Argument (a) => a.Many
                    ? new Argument<string[]>(a.Name) { Description = a.Help, Arity = ArgumentArity.ZeroOrMore }
                    : new Argument<string>(a.Name) { Description = a.Help, Arity = ArgumentArity.ZeroOrOne })
                .ToList();
            foreach (var argument in arguments)
                command.Arguments.Add(argument);
            root.Subcommands.Add(command);
            entries[command] = new Entry(cli, help, options, arguments);
        }
    }

    /// <summary>What a command line asks for: a command's help, or running it with these arguments.</summary>
    public sealed record Request(CliCommand Command, ParsedArgs Args, bool WantsHelp);

    /// <summary>Parses `COMMAND [ARGS...]`; everything after the first bare "--" is kept whole for the command (paas run).</summary>
    public Request Parse(IReadOnlyList<string> args)
    {
        var split = args.ToList().IndexOf("--");
        var head = split < 0 ? args.ToList() : args.Take(split).ToList();
        var result = root.Parse(head, configuration);
        if (!entries.TryGetValue(result.CommandResult.Command, out var entry))
            throw new CliException($"'{args.FirstOrDefault()}' is not a paas command; see `paas --help`.", 2);
        var name = entry.Cli.Name;
        if (result.GetResult(entry.Help) is { Implicit: false })
            return new Request(entry.Cli, new ParsedArgs(), WantsHelp: true);

        var parsed = new ParsedArgs();
        foreach (var argument in entry.Arguments)
            parsed.Positionals.AddRange(result.GetResult(argument)?.Tokens.Select(t => t.Value) ?? []);
        // A word with a leading dash that is not one of the command's options lands among the tokens the
        // parser could not place, or (for a command taking any number of words) among the positionals.
        var stray = result.UnmatchedTokens.Concat(parsed.Positionals).FirstOrDefault(t => t.Length > 1 && t[0] == '-');
        if (stray is not null)
            throw new CliException($"Unknown option {stray} for `paas {name}`; see `paas {name} --help`.", 2);
        if (result.UnmatchedTokens.FirstOrDefault() is { } extra)
            throw new CliException($"Unexpected argument '{extra}' for `paas {name}`; see `paas {name} --help`.", 2);
        if (result.Errors.FirstOrDefault() is { } error)
            throw new CliException($"{error.Message.TrimEnd('.')} (`paas {name}`); see `paas {name} --help`.", 2);

        foreach (var (declared, option) in entry.Options)
        {
            if (result.GetResult(option) is not { Implicit: false })
                continue;
            parsed.Options[declared.Name] = option is Option<string> text ? result.GetValue(text) ?? "" : "true";
        }
        if (split >= 0)
            parsed.Rest.AddRange(args.Skip(split + 1));
        return new Request(entry.Cli, parsed, WantsHelp: false);
    }

    /// <summary>`paas CMD --help`: usage, summary, then every positional and option with its help.</summary>
    public static string Help(CliCommand command)
    {
        var text = new StringBuilder($"Usage: {command.Usage}\n\n{command.Summary}.\n");
        if (command.Arguments.Count > 0)
        {
            text.Append("\nArguments:\n");
            foreach (var argument in command.Arguments)
                text.Append($"  {argument.Name + (argument.Many ? "..." : ""),-28} {argument.Help}\n");
        }
        text.Append("\nOptions:\n");
        foreach (var option in command.Options.Append(Opt.Help))
            text.Append($"  {option.Synopsis,-28} {option.Help}\n");
        return text.ToString();
    }
}
