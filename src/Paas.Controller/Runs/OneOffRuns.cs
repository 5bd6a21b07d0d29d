using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Logs;
using Paas.Staging;
using Paas.Staging.OneOff;

namespace Paas.Controller.Runs;

/// <summary>What a one-off run is about: the app, who asked, the release it runs in, the command and its limit.</summary>
public sealed record RunStart(string App, string Actor, ReleaseRecord Release, string Command, TimeSpan Limit, IReadOnlyDictionary<string, string> Environment);

/// <summary>
/// The parts every kind of one-off run shares (`paas run` line mode and interactive, `run:detached`, `heroku run`):
/// the command's checks, how an ending is told, and the one place a run that could not start is handled and
/// every run's event recorded. The container itself is <see cref="Tasks.OneOffTasks"/>'s business.
/// </summary>
public sealed class OneOffRuns(IStateStore db, Tasks.OneOffTasks runner, PaasSettings settings, AppLogWriter logs,
    IHostApplicationLifetime lifetime, ILogger<OneOffRuns> logger)
{
    public const int MaxCommandLength = 16 * 1024;
    /// <summary>DYNO=run.1 in the container, as on Heroku.</summary>
    public const string Kind = "run";

    public Tasks.OneOffTasks Runner => runner;

    public long MemoryBytes => settings.AppMemoryBytes;

    /// <summary>The TERM a TTY gets: the user's, when it is a plain name; else xterm.</summary>
    public static string Term(string? given) =>
        given is { Length: > 0 and <= 64 } t && t.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') ? t : "xterm";

    /// <summary>
    /// run.1, run.2, ... per app, for detached and heroku runs' log lines and names: numbered by the state store, so
    /// never handed out twice, after a controller restart or by another controller.
    /// </summary>
    public string NextName(string app) => $"{Kind}.{db.NextRunNumber(app)}";

    /// <summary>The command and its time limit, or the one sentence saying what is wrong with them.</summary>
    public (string Command, TimeSpan Limit, string ProblemId, string? Problem) Check(string? given, int? timeoutSeconds)
    {
        var command = given?.Trim();
        if (string.IsNullOrEmpty(command))
            return ("", default, "invalid_command", "Give a command to run, e.g. `paas run -- python3 migrate.py`.");
        if (command.Length > MaxCommandLength)
            return ("", default, "invalid_command", $"The command is longer than {MaxCommandLength} characters.");
        var limit = settings.StagingTimeout;
        if (timeoutSeconds is { } seconds)
        {
            if (seconds <= 0 || TimeSpan.FromSeconds(seconds) > settings.StagingTimeout)
                return ("", default, "invalid_timeout", $"The time limit must be between 1 and {(int)settings.StagingTimeout.TotalSeconds} seconds.");
            limit = TimeSpan.FromSeconds(seconds);
        }
        return (command, limit, "", null);
    }

    /// <summary>How a run ended, for `paas run`'s last message.</summary>
    public object EndOf(OneOffResult result, TimeSpan limit) => new
    {
        exit_code = result.ExitCode,
        timed_out = result.TimedOut,
        out_of_memory = result.OutOfMemory,
        time_limit_seconds = (int)limit.TotalSeconds,
        memory_mb = settings.AppMemoryBytes / (1024 * 1024),
    };

    private string Outcome(OneOffResult result, TimeSpan limit) =>
        result.TimedOut ? $"was stopped after {StagingOptions.Describe(limit)}"
        : result.OutOfMemory ? $"ran out of memory ({settings.AppMemoryBytes / (1024 * 1024)} MB)"
        : $"exited with code {result.ExitCode}";

    /// <summary>
    /// Runs the command with its lines to <paramref name="output"/>; the run's end goes to <paramref name="ended"/>, or,
    /// when no cell could run it, one sentence to <paramref name="failed"/>. Records the run's event either way
    /// (<paramref name="how"/> says which kind, e.g. " interactively"; <paramref name="cancelled"/> why it was cut short).
    /// Returns the outcome as the event words it.
    /// </summary>
    public Task<string> RunAsync(RunStart start, string how, string cancelled, Func<string, Task> output,
        Func<OneOffResult, Task> ended, Func<string, Task> failed, CancellationToken ct) =>
        RecordAsync(start, how, cancelled, () => runner.RunAsync(start.Release, Kind, start.Command, start.Environment, settings.AppMemoryBytes,
            start.Limit, output, _ => Task.CompletedTask, ct), ended, failed);

    /// <summary>As <see cref="RunAsync"/>, for a run whose container <paramref name="run"/> starts (an interactive one).</summary>
    public async Task<string> RecordAsync(RunStart start, string how, string cancelled, Func<Task<(OneOffResult Result, string Cell)>> run,
        Func<OneOffResult, Task> ended, Func<string, Task> failed)
    {
        var outcome = $"was cancelled ({cancelled})";
        try
        {
            var (result, cell) = await run();
            outcome = $"{Outcome(result, start.Limit)} (cell {cell})";
            await ended(result);
        }
        catch (OperationCanceledException)
        {
            // The user went away (Ctrl-C, a closed terminal) or the controller is stopping: the cell removed the container, and no one is left to answer.
        }
        catch (Exception e) when (e is Cells.CellTaskException or Cells.CellUnavailableException or Instances.DeployException)
        {
            outcome = $"could not start: {e.Message.TrimEnd('.')}";
            logger.LogWarning("One-off run{How} for {App} could not start: {Error}", how, start.App, e.Message);
            await failed($"The one-off container could not be run: {e.Message.TrimEnd('.')}.");
        }
        finally
        {
            try
            {
                db.AddEvent(start.App, start.Actor, "run", $"Ran `{Shorten(start.Command)}`{how} on v{start.Release.Version}: {outcome}");
            }
            catch (StateStoreUnavailableException e)
            {
                logger.LogWarning("The event of a one-off run of {App} ({Outcome}) was not stored: {Error}", start.App, outcome, e.Message);
            }
        }
        return outcome;
    }

    /// <summary>
    /// Heroku's run:detached: the run starts and this returns its name (run.N) at once; the run outlives the request
    /// (it stops with the controller), its lines go to the app's logs tagged run.N, and how it ended to the logs and events.
    /// </summary>
    public string StartDetached(RunStart start)
    {
        var name = NextName(start.App);
        var stopping = lifetime.ApplicationStopping;
        _ = Task.Run(async () =>
        {
            var outcome = await RunAsync(start, $" detached as {name}", "the controller stopped",
                line => { logs.Post(start.App, LogSource.App, name, line); return Task.CompletedTask; },
                _ => Task.CompletedTask, _ => Task.CompletedTask, stopping);
            logs.Post(start.App, LogSource.Platform, name, $"{name} {outcome}");
        }, CancellationToken.None);
        return name;
    }

    private static string Shorten(string command)
    {
        var oneLine = command.ReplaceLineEndings(" ");
        return oneLine.Length <= 80 ? oneLine : oneLine[..77] + "...";
    }
}
