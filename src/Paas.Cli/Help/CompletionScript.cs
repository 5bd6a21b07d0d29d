using System.Text;
using Paas.Cli.Commands;

namespace Paas.Cli.Help;

/// <summary>`paas completion bash`: commands, each command's declared options, and app names after -a.</summary>
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
}
