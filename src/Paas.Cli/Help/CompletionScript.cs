using System.Text;
using Paas.Cli.Commands;

namespace Paas.Cli.Help;

/// <summary>`paas completion bash|zsh|fish`: commands, each command's declared options, and app names after -a; all from the command table.</summary>
public static class CompletionScript
{
    /// <summary>The spellings of every option the command declares, then --help.</summary>
    public static IReadOnlyList<string> FlagsOf(CliCommand command) =>
        command.Options.Append(Opt.Help).SelectMany(o => o.Spellings).Distinct().ToList();

    public static string Bash(IEnumerable<CliCommand> commands)
    {
        var visible = commands.Where(c => !c.Hidden).ToList();
        var script = new StringBuilder();
        script.Append("""
            # bash completion for paas. Load it with:  source <(paas completion bash)
            # or install it:  paas completion bash > /etc/bash_completion.d/paas
            _paas() {
                local line="${COMP_LINE:0:$COMP_POINT}"
                local -a words
                read -ra words <<< "$line"
                [[ "$line" == *[[:space:]] || ${#words[@]} -eq 0 ]] && words+=("")
                local cur="${words[-1]}" prev=""
                (( ${#words[@]} > 1 )) && prev="${words[-2]}"
                local candidates
                if (( ${#words[@]} <= 2 )); then

            """);
        script.Append($"        candidates=\"{string.Join(' ', visible.Select(c => c.Name).Append("help"))}\"\n");
        script.Append("""
                elif [[ "$prev" == "-a" || "$prev" == "--app" ]]; then
                    candidates="$(paas apps --json 2>/dev/null | sed -n 's/^ *"name": "\([^"]*\)".*/\1/p')"
                else
                    case "${words[1]}" in

            """);
        foreach (var command in visible)
            script.Append($"            {command.Name}) candidates=\"{string.Join(' ', FlagsOf(command))}\" ;;\n");
        script.Append("""
                        help) candidates="--markdown" ;;
                        *) candidates="--help" ;;
                    esac
                fi
                # Take only the words that start with what is typed (a plain prefix match, no globbing).
                COMPREPLY=()
                local word
                for word in $candidates; do
                    [[ "$word" == "$cur"* ]] && COMPREPLY+=("$word")
                done
                # bash splits words at ':' (COMP_WORDBREAKS), so it replaces only what follows the last colon.
                if [[ "$cur" == *:* ]]; then
                    local typed="${cur%"${cur##*:}"}"
                    COMPREPLY=("${COMPREPLY[@]#"$typed"}")
                fi
            }
            complete -F _paas paas

            """);
        return script.ToString();
    }

    public static readonly IReadOnlyList<string> Shells = ["bash", "zsh", "fish"];

    public static string For(string shell, IEnumerable<CliCommand> commands) => shell switch
    {
        "bash" => Bash(commands),
        "zsh" => Zsh(commands),
        "fish" => Fish(commands),
        _ => throw new CliException($"No completion for '{shell}': paas completion {string.Join("|", Shells)}", 2),
    };

    /// <summary>Single-quoted for zsh and fish: the only character to escape is the quote itself.</summary>
    private static string Quoted(string text) => "'" + text.Replace("'", "'\\''") + "'";

    /// <summary>zsh: `_describe` for commands (with their summaries), `_arguments` for each command's options.</summary>
    public static string Zsh(IEnumerable<CliCommand> commands)
    {
        var visible = commands.Where(c => !c.Hidden).ToList();
        var script = new StringBuilder();
        script.Append("""
            #compdef paas
            # zsh completion for paas. Load it with:  source <(paas completion zsh)
            # or install it:  paas completion zsh > "${fpath[1]}/_paas"
            _paas_apps() {
                local -a apps
                apps=(${(f)"$(paas apps --json 2>/dev/null | sed -n 's/^ *"name": "\([^"]*\)".*/\1/p')"})
                _describe -t apps 'app' apps
            }
            _paas() {
                local -a commands
                commands=(

            """);
        foreach (var command in visible)
            script.Append($"        {Quoted(command.Name.Replace(":", "\\:") + ":" + command.Summary)}\n");
        script.Append("""
                )
                if (( CURRENT == 2 )); then
                    _describe -t commands 'paas command' commands
                    return
                fi
                case ${words[2]} in

            """);
        foreach (var command in visible)
        {
            var specs = command.Options.Append(Opt.Help).Select(ZshSpec).Append("'*:argument:_files'");
            script.Append($"        {command.Name}) _arguments -s {string.Join(' ', specs)} ;;\n");
        }
        script.Append("""
                    help) _arguments '--markdown[the command reference as Markdown]' ;;
                esac
            }
            compdef _paas paas

            """);
        return script.ToString();
    }

    /// <summary>One option for `_arguments`: its spellings as alternatives, its help, and (for a value) what completes it.</summary>
    private static string ZshSpec(CliOption option)
    {
        var spellings = option.Spellings.ToList();
        var exclusive = $"({string.Join(' ', spellings)})";
        var help = option.Help.Replace("[", "(").Replace("]", ")").Replace(":", " ");
        var value = option.IsFlag ? "" : $":{option.Value!.Replace(":", " ")}:{(option == Opt.App ? "_paas_apps" : " ")}";
        var each = spellings.Select(s => option.IsFlag || s.Length == 2 ? s : s + "=");
        return Quoted(exclusive) + "{" + string.Join(',', each.Select(s => Quoted($"{s}[{help}]{value}"))) + "}";
    }

    /// <summary>fish: the app names `paas apps --json` lists, for -a.</summary>
    private const string FishApps = """ -x -a '(paas apps --json 2>/dev/null | string replace -rf \'^ *"name": "([^"]*)".*\' \'$1\')'""";

    /// <summary>fish: one `complete` line per command and per option, each guarded by which command is being typed.</summary>
    public static string Fish(IEnumerable<CliCommand> commands)
    {
        var visible = commands.Where(c => !c.Hidden).ToList();
        var names = string.Join(' ', visible.Select(c => c.Name).Append("help"));
        var script = new StringBuilder();
        script.Append("# fish completion for paas. Load it with:  paas completion fish | source\n");
        script.Append("# or install it:  paas completion fish > ~/.config/fish/completions/paas.fish\n");
        script.Append("complete -c paas -f\n");
        script.Append($"function __paas_needs_command\n    not __fish_seen_subcommand_from {names}\nend\n");
        script.Append("complete -c paas -n __paas_needs_command -a help -d 'show help for a command'\n");
        foreach (var command in visible)
            script.Append($"complete -c paas -n __paas_needs_command -a {Quoted(command.Name)} -d {Quoted(command.Summary)}\n");
        script.Append("complete -c paas -n '__fish_seen_subcommand_from help' -l markdown -d 'the command reference as Markdown'\n");
        foreach (var command in visible)
        {
            foreach (var option in command.Options.Append(Opt.Help))
            {
                var line = new StringBuilder($"complete -c paas -n '__fish_seen_subcommand_from {command.Name}'");
                if (option.Short is { } s)
                    line.Append($" -s {s[1..]}");
                foreach (var name in new[] { option.Name }.Concat(option.Aliases.Select(a => a.TrimStart('-'))))
                    line.Append($" -l {name}");
                if (!option.IsFlag)
                    line.Append(option == Opt.App ? FishApps : " -x");
                line.Append($" -d {Quoted(option.Help)}\n");
                script.Append(line);
            }
            if (command.Arguments.Count > 0)
                script.Append($"complete -c paas -n '__fish_seen_subcommand_from {command.Name}' -F\n");
        }
        return script.ToString();
    }
}
