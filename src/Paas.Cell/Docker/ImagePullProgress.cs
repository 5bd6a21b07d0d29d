using Docker.DotNet.Models;

namespace Paas.Cell.Docker;

/// <summary>
/// Follows an engine's pull messages: the first error (the engine reports most pull failures in the stream,
/// not as an HTTP status), and bytes per layer for a one-line summary. Docker.DotNet reports on the
/// reading thread, so this must not block.
/// </summary>
internal sealed class ImagePullProgress(TimeProvider time) : IProgress<JSONMessage>
{
    private readonly Dictionary<string, long> _layerBytes = new();
    private readonly long _started = time.GetTimestamp();
    private int _layersDownloaded;

    public string? Error { get; private set; }

    public void Report(JSONMessage value)
    {
        lock (_layerBytes)
        {
            if (Error is null && (value.Error?.Message ?? value.ErrorMessage) is { Length: > 0 } error)
                Error = FirstLine(error);
            if (value.ID is { Length: > 0 } id && value.Progress is { Total: > 0 } p)
                _layerBytes[id] = p.Total;
            if (value.Status == "Download complete")
                _layersDownloaded++;
        }
    }

    public string Summary
    {
        get
        {
            lock (_layerBytes)
            {
                var mb = _layerBytes.Values.Sum() / (1024.0 * 1024);
                return $"{_layersDownloaded} layer(s), {mb:0.#} MB in {time.GetElapsedTime(_started).TotalSeconds:0.0} s";
            }
        }
    }

    public static string FirstLine(string text) => Paas.Core.Images.EngineError.Reason(text);
}
