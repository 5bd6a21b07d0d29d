using System.Text;
using Docker.DotNet;

namespace Paas.Staging;

/// <summary>Reads a container's combined output a line at a time as it arrives, so the pusher sees it live.</summary>
public static class ContainerOutput
{
    /// <summary>A process that never prints a newline must not grow a line without bound.</summary>
    private const int MaxLineLength = 16 * 1024;

    public static async Task ReadLinesAsync(MultiplexedStream stream, Func<string, Task> onLine, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[Encoding.UTF8.GetMaxCharCount(buffer.Length)];
        var line = new StringBuilder();
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken);
            if (read.EOF)
                break;
            var count = decoder.GetChars(buffer, 0, read.Count, chars, 0);
            for (var i = 0; i < count; i++)
            {
                if (chars[i] == '\n')
                {
                    await onLine(line.ToString().TrimEnd('\r'));
                    line.Clear();
                    continue;
                }
                line.Append(chars[i]);
                if (line.Length >= MaxLineLength)
                {
                    await onLine(line.ToString());
                    line.Clear();
                }
            }
        }
        if (line.Length > 0)
            await onLine(line.ToString());
    }
}
