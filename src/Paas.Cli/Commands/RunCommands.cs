using System.Text.Json;

namespace Paas.Cli.Commands;

/// <summary>`paas run`: a one-off command in a container of the app's current release, its output live, its exit code ours.</summary>
public static class RunCommands
{
    /// <summary>What timeout(1) answers when it stops a command, so scripts can tell a limit from a failure.</summary>
    public const int TimedOutExitCode = 124;
    /// <summary>128 + SIGKILL: what a shell reports for a process the kernel killed for memory.</summary>
    public const int OutOfMemoryExitCode = 137;

    public static IEnumerable<CliCommand> All() =>
    [
        new("run", "run a one-off command in a container of the app's current release, with its config; exits with the command's exit code",
            "paas run [-a APP] [--timeout SECONDS] [--no-tty] -- COMMAND [ARGS...]", RunAsync)
            {
                Arguments = [new("COMMAND", "the command and its arguments (after --)", Many: true)],
                Options = Opt.AppScoped(
                    new CliOption("timeout", "SECONDS", "stop the command after this long"),
                    new CliOption("no-tty", null, "no terminal in the container even when input is a terminal (output as lines, no input)")),
            },
        new("run:detached", "start a one-off command without attaching; prints its name (run.N), its output goes to the app's logs",
            "paas run:detached [-a APP] [--timeout SECONDS] [--json] -- COMMAND [ARGS...]", DetachedAsync)
            {
                Arguments = [new("COMMAND", "the command and its arguments (after --)", Many: true)],
                Options = Opt.AppScoped(new CliOption("timeout", "SECONDS", "stop the command after this long"), Opt.Json),
            },
    ];

    private static (string Command, int? Timeout) CommandOf(ParsedArgs args)
    {
        var words = args.Rest.Count > 0 ? args.Rest : args.Positionals;
        if (words.Count == 0)
            throw new CliException("Say what to run, e.g. `paas run -a APP -- python3 migrate.py`.", 2);
        int? timeout = args.Get("timeout") is { } t
            ? int.TryParse(t, out var seconds) && seconds > 0 ? seconds : throw new CliException("--timeout must be a positive number of seconds.", 2)
            : null;
        return (ShellCommand(words), timeout);
    }

    private static async Task<int> DetachedAsync(ParsedArgs args, CliContext cli)
    {
        var (command, timeout) = CommandOf(args);
        var app = cli.ResolveApp(args);
        var started = await cli.Api.PostAsync($"v1/apps/{Uri.EscapeDataString(app)}/runs/detached", new { command, timeout_seconds = timeout });
        if (args.Json)
        {
            cli.WriteJson(started);
            return 0;
        }
        var name = started.GetProperty("name").GetString();
        cli.Out.WriteLine($"Running `{command}` on {app}... up, {name}");
        cli.Out.WriteLine($"Use `paas logs -a {app} -d {name}` to view its output.");
        return 0;
    }

    private static async Task<int> RunAsync(ParsedArgs args, CliContext cli)
    {
        var (command, timeout) = CommandOf(args);
        var app = cli.ResolveApp(args);
        Console.Error.WriteLine($"Running `{command}` on {app}...");
        // A person at a terminal gets one in the container; a script (input redirected) gets lines, as before.
        if (!Console.IsInputRedirected && !args.Has("no-tty"))
            return await InteractiveRun.RunAsync(cli, app, command, timeout);
        int? exitCode = null;
        await cli.Api.PostStreamingAsync($"v1/apps/{Uri.EscapeDataString(app)}/runs", new { command, timeout_seconds = timeout }, async line =>
        {
            if (line.TryGetProperty("line", out var text))
                await cli.Out.WriteLineAsync(text.GetString());
            else if (line.TryGetProperty("error", out var error))
                throw new CliException(error.GetString() ?? "The run failed.");
            else if (line.TryGetProperty("exit_code", out _))
                exitCode = ExitCodeOf(line, command);
        });
        return exitCode ?? throw new CliException("The run ended without an exit code: the connection to the platform was cut.");
    }

    /// <summary>The CLI's own exit code for a run's end: the command's, or 124/137 (with a sentence) when the platform stopped it.</summary>
    public static int ExitCodeOf(JsonElement end, string command)
    {
        if (end.TryGetProperty("timed_out", out var timedOut) && timedOut.GetBoolean())
        {
            Console.Error.WriteLine($"{Terminal.ErrorPrefix}`{command}` was still running after {end.GetProperty("time_limit_seconds").GetInt32()} s, so it was stopped.");
            return TimedOutExitCode;
        }
        if (end.TryGetProperty("out_of_memory", out var oom) && oom.GetBoolean())
        {
            Console.Error.WriteLine($"{Terminal.ErrorPrefix}`{command}` ran out of memory ({end.GetProperty("memory_mb").GetInt64()} MB) and was killed.");
            return OutOfMemoryExitCode;
        }
        var code = end.GetProperty("exit_code").GetInt64();
        // A process exit status is one byte; anything else (the engine's -1) still has to mean failure.
        return code is >= 0 and <= 255 ? (int)code : 1;
    }

    /// <summary>
    /// One word is a shell command as typed (`paas run -- 'migrate && seed'`); several are argv, quoted so the
    /// container's shell sees exactly those words (`paas run -- echo 'a b'`).
    /// </summary>
    public static string ShellCommand(IReadOnlyList<string> words) =>
        words.Count == 1 ? words[0] : string.Join(' ', words.Select(Quote));

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c))
            ? word
            : "'" + word.Replace("'", "'\\''") + "'";
}
