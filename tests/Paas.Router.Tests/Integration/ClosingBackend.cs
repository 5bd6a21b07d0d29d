namespace Paas.Router.Tests.Integration;

/// <summary>
/// An instance that accepts connections, reads what arrives (headers and any body) and closes without
/// answering: the "backend closed before responding" case of the retry rule. Counts what it received.
/// </summary>
internal sealed class ClosingBackend : RawTcpBackend
{
    private int _requests;
    private long _bytes;

    public int Requests => Volatile.Read(ref _requests);

    public long Bytes => Interlocked.Read(ref _bytes);

    protected override async Task ServeAsync(System.Net.Sockets.NetworkStream stream)
    {
        var buffer = new byte[65536];
        using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        try
        {
            var read = await stream.ReadAsync(buffer, wait.Token);
            if (read > 0)
            {
                Interlocked.Increment(ref _requests);
            }

            while (read > 0)
            {
                Interlocked.Add(ref _bytes, read);
                read = await stream.ReadAsync(buffer, wait.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Read for a moment only; then hang up without a response.
        }
    }
}
