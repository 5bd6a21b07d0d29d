using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;

namespace Paas.Controller.Runs;

/// <summary>
/// A rendezvous connection seen as the terminal WebSocket an interactive run joins to the cell's TTY
/// (<see cref="Cells.RemoteCell.RunInteractiveAsync"/>): what the CLI sends is keystrokes (binary messages), the TTY's
/// bytes are written back as they come. The CLI closing its side reads as the terminal closing, which ends the run.
/// Heroku's protocol has no resize: the terminal keeps the size the CLI gave when it started the run.
/// </summary>
public sealed class PipeTerminal(PipeReader input, PipeWriter output) : WebSocket
{
    private WebSocketState _state = WebSocketState.Open;

    public override WebSocketCloseStatus? CloseStatus => _state == WebSocketState.Open ? null : WebSocketCloseStatus.NormalClosure;
    public override string? CloseStatusDescription => null;
    public override WebSocketState State => _state;
    public override string? SubProtocol => null;

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await input.ReadAsync(cancellationToken);
            if (read.Buffer.IsEmpty && (read.IsCompleted || read.IsCanceled))
            {
                input.AdvanceTo(read.Buffer.End);
                _state = WebSocketState.CloseReceived;
                return new WebSocketReceiveResult(0, WebSocketMessageType.Close, true, WebSocketCloseStatus.NormalClosure, null);
            }
            var count = (int)Math.Min(buffer.Count, read.Buffer.Length);
            if (count == 0 && !read.Buffer.IsEmpty)
            {
                input.AdvanceTo(read.Buffer.Start);
                throw new ArgumentException("The receive buffer is empty.", nameof(buffer));
            }
            var slice = read.Buffer.Slice(0, count);
            slice.CopyTo(buffer.AsSpan());
            input.AdvanceTo(slice.End);
            if (count > 0)
                return new WebSocketReceiveResult(count, WebSocketMessageType.Binary, true);
        }
    }

    public override async Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        // Only the TTY's bytes go to the CLI; the session's JSON is `paas run`'s, not Heroku's.
        if (messageType == WebSocketMessageType.Binary)
            await output.WriteAsync(buffer, cancellationToken);
    }

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        _state = WebSocketState.Closed;
        return Task.CompletedTask;
    }

    public override void Abort() => _state = WebSocketState.Aborted;

    public override void Dispose()
    {
    }
}
