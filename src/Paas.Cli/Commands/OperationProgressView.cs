using System.Globalization;
using Paas.Core.Api;

namespace Paas.Cli.Commands;

/// <summary>
/// How the CLI follows a long operation (scale, restart, config change, rollback): one stderr line per instance event as
/// the platform reports it, then the outcome — a summary on stdout and exit 0, or the reason on stderr and exit 1.
/// --json prints only the last record; --no-wait returns once the platform accepted the change; Ctrl-C stops the
/// waiting, not the operation.
/// </summary>
public static class OperationProgressView
{
    /// <summary>Exit code when the user stopped waiting with Ctrl-C (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    /// <param name="doing">The first line, on stderr once the platform accepted ("Scaling web=3 on hello").</param>
    /// <param name="done">The stdout line for a success, from its outcome.</param>
    public static async Task<int> FollowAsync(CliContext cli, ParsedArgs args, HttpMethod method, string path, object body, string doing,
        Func<OperationOutcome, string> done)
    {
        var noWait = args.Has("no-wait");
        int? target = null;
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl-C ends the waiting cleanly; the platform is not told anything.
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        ProgressEvent? last;
        try
        {
            last = await cli.Api.FollowAsync(method, path, body, progress =>
            {
                if (progress.Event == ProgressEvent.Accepted)
                {
                    // Said once the platform took it on: a refusal is then one sentence on its own.
                    if (!args.Json)
                        cli.Err.WriteLine(doing + "...");
                    target = progress.Release;
                    return !noWait;
                }
                if (!args.Json && Line(progress, target) is { } line)
                    cli.Err.WriteLine(line);
                return true;
            }, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            cli.Err.WriteLine($"Stopped waiting; the change goes on on the platform: see `paas ps -a {cli.ResolveApp(args)}`.");
            return Interrupted;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        if (last is null)
        {
            // --no-wait: accepted, and the operation goes on after this connection closes.
            if (args.Json)
                cli.WriteJson(new ProgressEvent(ProgressEvent.Accepted, Release: target));
            else
                cli.Out.WriteLine($"accepted{(target is { } v ? $", v{v}" : "")}: not waiting for the instances (see `paas ps -a {cli.ResolveApp(args)}`)");
            return 0;
        }
        var outcome = last.Outcome!;
        if (args.Json)
            cli.WriteJson(last);
        else if (outcome.Ok)
            cli.Out.WriteLine(done(outcome));
        else
            cli.Err.WriteLine($"{Terminal.ErrorPrefix}{outcome.Summary}");
        return outcome.Ok ? 0 : 1;
    }

    /// <summary>"  web.3 healthy (1.4 s)": what one event looks like; null for one not worth a line.</summary>
    public static string? Line(ProgressEvent progress, int? target) => progress.Event switch
    {
        ProgressEvent.Starting => $"  {progress.Instance} starting on {progress.Cell}{(progress.Release is { } v ? $" (v{v})" : "")}",
        ProgressEvent.Healthy => $"  {progress.Instance} healthy{Seconds(progress.Seconds)}",
        ProgressEvent.Routed => $"  {progress.Instance} routed",
        ProgressEvent.Stopped => $"  {progress.Instance} stopped ({(progress.Release is { } v && target is { } t && v != t ? "old release " : "")}v{progress.Release})",
        ProgressEvent.Unhealthy => $"  {progress.Instance} never became healthy: {progress.Message}",
        _ => null,
    };

    /// <summary>"3 of 3 healthy in 4.1 s".</summary>
    public static string Health(OperationOutcome outcome) =>
        string.Create(CultureInfo.InvariantCulture, $"{outcome.Healthy} of {outcome.Wanted} healthy in {outcome.Seconds:0.0} s");

    private static string Seconds(double? seconds) =>
        seconds is { } s ? string.Create(CultureInfo.InvariantCulture, $" ({s:0.0} s)") : "";
}
