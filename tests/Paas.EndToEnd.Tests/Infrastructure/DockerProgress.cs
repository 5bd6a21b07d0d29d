using Docker.DotNet.Models;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Collects an engine's progress messages as they come (synchronously, unlike Progress&lt;T&gt;, which posts them
/// later). The engine reports a failed pull, push or import only there, with the HTTP call itself succeeding.
/// </summary>
public sealed class DockerProgress : IProgress<JSONMessage>
{
    private readonly List<JSONMessage> _messages = new();

    public void Report(JSONMessage value)
    {
        lock (_messages)
            _messages.Add(value);
    }

    public IReadOnlyList<JSONMessage> Messages
    {
        get { lock (_messages) return [.. _messages]; }
    }

    public void ThrowIfFailed(string what)
    {
        var error = Messages.FirstOrDefault(m => m.Error is not null || !string.IsNullOrEmpty(m.ErrorMessage));
        if (error is not null)
            throw new InvalidOperationException($"{what} failed: {error.Error?.Message ?? error.ErrorMessage}");
    }
}
