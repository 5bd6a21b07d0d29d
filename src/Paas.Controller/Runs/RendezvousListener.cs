using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace Paas.Controller.Runs;

/// <summary>A `heroku run` waiting for its CLI to attach: the run, its name (run.N), and the user's terminal when it has one.</summary>
public sealed record RendezvousRun(RunStart Start, string Name, RunTerminal? Terminal = null);

/// <summary>The terminal `heroku run` was started from: TERM and its size.</summary>
public sealed record RunTerminal(string Term, int Columns, int Rows);

/// <summary>Where `heroku run` attaches: rendezvous://HOST:PORT/SECRET, when the controller opened the port (it needs the API's certificate).</summary>
public sealed record RendezvousAddress(bool Open, string Host, int Port)
{
    public string Url(string secret) => $"rendezvous://{Host}:{Port}/{secret}";
}

/// <summary>
/// The Heroku CLI's rendezvous protocol, served on its own TLS port (Kestrel terminates TLS with the platform
/// certificate): the CLI connects, writes the secret from its attach URL and CRLF; an unknown, used or expired secret
/// gets a sentence and exit status 255. Otherwise a first line (the CLI discards it as the connection's banner),
/// then the run's output, then "\uFFFF heroku-command-exit-status: N", which the CLI turns into its own exit code.
/// Line mode: stdin is read only to notice the CLI going away (which cancels the run). From a terminal (the CLI sent
/// its size), the run gets a TTY as `paas run` does, joined to the connection by <see cref="PipeTerminal"/>.
/// </summary>
public sealed class RendezvousListener(RendezvousSecrets<RendezvousRun> secrets, OneOffRuns runs, IHostApplicationLifetime lifetime,
    TimeProvider time, ILogger<RendezvousListener> logger) : ConnectionHandler
{
    /// <summary>The CLI's marker for the command's exit status; a line starting with it is not output.</summary>
    public const string ExitStatusMarker = "\uFFFF heroku-command-exit-status: ";
    private const int MaxSecretLineBytes = 256;
    private static readonly TimeSpan SecretWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan BannerGap = TimeSpan.FromMilliseconds(200);

    private long _attached;
    private long _refused;

    public long Attached => Interlocked.Read(ref _attached);
    public long Refused => Interlocked.Read(ref _refused);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        string? secret;
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping))
        {
            wait.CancelAfter(SecretWait);
            secret = await ReadSecretAsync(input, wait.Token);
        }
        var run = secret is null ? null : secrets.Redeem(secret);
        if (run is null)
        {
            Interlocked.Increment(ref _refused);
            // Never the secret itself: whoever reads the log must not be able to attach.
            logger.LogWarning("A rendezvous from {Remote} was refused: its secret is unknown, used or expired", connection.RemoteEndPoint);
            await WriteAsync(output, "rendezvous\r\n", CancellationToken.None);
            // The CLI discards its first read as the banner: the sentence must come in a read of its own.
            await Task.Delay(BannerGap, time);
            await WriteAsync(output, "That run's attach secret is unknown, already used or expired: start `heroku run` again.\n" + ExitStatusMarker + "255\n", CancellationToken.None);
            return;
        }
        Interlocked.Increment(ref _attached);
        if (run.Terminal is { } terminal)
            await AttachTerminalAsync(connection, run, terminal);
        else
            await AttachLinesAsync(connection, run);
    }

    /// <summary>From a terminal: the CLI's raw keystrokes to a TTY in the container, its bytes back; the status marker after them.</summary>
    private async Task AttachTerminalAsync(ConnectionContext connection, RendezvousRun run, RunTerminal terminal)
    {
        var output = connection.Transport.Output;
        var ct = lifetime.ApplicationStopping;
        var start = run.Start;
        try
        {
            await WriteAsync(output, "rendezvous\r\n", ct);
            await runs.RecordAsync(start, $" interactively with heroku run as {run.Name}", "heroku run went away",
                () => runs.Runner.RunInteractiveAsync(start.Release, OneOffRuns.Kind, start.Command, start.Environment, runs.MemoryBytes, start.Limit,
                    terminal.Term, terminal.Columns, terminal.Rows, new PipeTerminal(connection.Transport.Input, output), ct),
                result => EndAsync(output, "\r\n" + ExitStatusMarker + Status(result) + "\r\n", ct),
                error => WriteAsync(output, "\r\n" + error + "\r\n" + ExitStatusMarker + "1\r\n", ct));
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or OperationCanceledException)
        {
            // The CLI went away mid-run: the run was cancelled and its event says so.
        }
    }

    private async Task AttachLinesAsync(ConnectionContext connection, RendezvousRun run)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
        var ct = gone.Token;
        // Drains what the CLI sends (stdin, then \u0004); when it closes the connection (Ctrl-C), the run is cancelled.
        var watching = WatchInputAsync(input, gone);
        var statusSent = false;
        try
        {
            await WriteAsync(output, "rendezvous\r\n", ct);
            await runs.RunAsync(run.Start, $" with heroku run as {run.Name}", "heroku run went away",
                line =>
                {
                    // `heroku run -x` appends its own `echo` of the status: that line then ends the session for the CLI.
                    statusSent |= line.StartsWith(ExitStatusMarker, StringComparison.Ordinal);
                    return WriteAsync(output, line + "\n", ct);
                },
                result => statusSent ? Task.CompletedTask : EndAsync(output, ExitStatusMarker + Status(result) + "\n", ct),
                error => WriteAsync(output, error + "\n" + ExitStatusMarker + "1\n", ct), ct);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or OperationCanceledException)
        {
            // The CLI went away mid-run: the run was cancelled and its event says so.
        }
        finally
        {
            await gone.CancelAsync();
            await watching;
        }
    }

    /// <summary>The exit status as a shell reports it: 124 for a run stopped at its limit (timeout(1)'s), 137 for one killed out of memory.</summary>
    private static long Status(Paas.Staging.OneOff.OneOffResult result) =>
        result.TimedOut ? 124 : result.OutOfMemory ? 137 : result.ExitCode;

    /// <summary>The first line, without its CRLF; null when it is too long, not there in time, or the connection closed first.</summary>
    private static async Task<string?> ReadSecretAsync(PipeReader input, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var read = await input.ReadAsync(ct);
                var buffer = read.Buffer;
                if (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var line = Encoding.ASCII.GetString(buffer.Slice(0, end).ToArray()).TrimEnd('\r');
                    input.AdvanceTo(buffer.GetPosition(1, end));
                    return line.Length <= MaxSecretLineBytes ? line : null;
                }
                if (buffer.Length > MaxSecretLineBytes || read.IsCompleted)
                    return null;
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private static async Task WatchInputAsync(PipeReader input, CancellationTokenSource gone)
    {
        try
        {
            while (!gone.IsCancellationRequested)
            {
                var read = await input.ReadAsync(gone.Token);
                input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                    break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
        {
        }
        await gone.CancelAsync();
    }

    /// <summary>
    /// The status marker in a read of its own: the CLI exits as soon as it sees it, and output that came in the same
    /// read would not reach the user's terminal by then.
    /// </summary>
    private async Task EndAsync(PipeWriter output, string marker, CancellationToken ct)
    {
        await Task.Delay(BannerGap, time);
        await WriteAsync(output, marker, ct);
    }

    private static async Task WriteAsync(PipeWriter output, string text, CancellationToken ct)
    {
        await output.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
    }
}
