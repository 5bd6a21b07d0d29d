using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Paas.Core.Runs;

namespace Paas.Cli.Commands;

/// <summary>
/// `paas run` from a terminal: a WebSocket to the controller (<see cref="TerminalSession"/>), the local terminal raw
/// so every key (Ctrl-C included) reaches the container's TTY as a byte, its resizes (SIGWINCH) forwarded, the TTY's
/// bytes written as they come; the terminal restored and the command's exit code ours at the end.
/// </summary>
public static class InteractiveRun
{
    public static async Task<int> RunAsync(CliContext cli, string app, string command, int? timeout)
    {
        using var socket = await cli.Api.ConnectWebSocketAsync($"v1/apps/{Uri.EscapeDataString(app)}/runs/tty", CancellationToken.None);
        // One send at a time on a WebSocket: keystrokes (a thread) and resizes (a signal) share it.
        using var sending = new SemaphoreSlim(1, 1);
        async Task SendAsync(byte[] data, WebSocketMessageType type)
        {
            await sending.WaitAsync();
            try
            {
                await socket.SendAsync(data, type, true, CancellationToken.None);
            }
            finally
            {
                sending.Release();
            }
        }
        Task SendJsonAsync(object value) => SendAsync(JsonSerializer.SerializeToUtf8Bytes(value), WebSocketMessageType.Text);

        var (columns, rows) = RawTerminal.Size();
        await SendJsonAsync(new TerminalSession.Start(command, timeout, columns, rows, Environment.GetEnvironmentVariable("TERM")));
        JsonElement? end = null;
        using (RawTerminal.Enter())
        {
            using var resized = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, signal =>
            {
                var (c, r) = RawTerminal.Size();
                _ = SendJsonAsync(new TerminalSession.Resize(c, r)).ContinueWith(_ => { }, TaskScheduler.Default);
            });
            // A blocking read of fd 0 itself: Console's own stdin stream would edit lines and echo.
            var typing = new Thread(() => Type(bytes => SendAsync(bytes, WebSocketMessageType.Binary).GetAwaiter().GetResult())) { IsBackground = true, Name = "stdin" };
            typing.Start();
            using var stdout = Console.OpenStandardOutput();
            try
            {
                while (await TerminalSession.ReceiveAsync(socket, CancellationToken.None) is ({ } type, { } data))
                {
                    if (type == WebSocketMessageType.Binary)
                    {
                        stdout.Write(data);
                        stdout.Flush();
                        continue;
                    }
                    using var message = JsonDocument.Parse(data);
                    end = message.RootElement.Clone();
                    break;
                }
            }
            catch (Exception e) when (e is WebSocketException or JsonException)
            {
                // Cut: said below, once the terminal is back to normal.
            }
        }
        if (end is not { } outcome)
            throw new CliException("The run ended without an exit code: the connection to the platform was cut.");
        if (outcome.TryGetProperty("error", out var error))
            throw new CliException(error.GetString() ?? "The run failed.");
        return RunCommands.ExitCodeOf(outcome, command);
    }

    private static void Type(Action<byte[]> send)
    {
        try
        {
            using var stdin = new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, 1);
            var buffer = new byte[4096];
            int read;
            while ((read = stdin.Read(buffer, 0, buffer.Length)) > 0)
                send(buffer[..read]);
        }
        catch (Exception e) when (e is IOException or WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The session ended while a key was on its way.
        }
    }
}
