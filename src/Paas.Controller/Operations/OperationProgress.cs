using System.Threading.Channels;
using Paas.Core.Api;

namespace Paas.Controller.Operations;

/// <summary>
/// Where the instance events of the operation running on this async flow go (a scale, restart, config change or
/// rollback streamed to a client). An ambient sink rather than a parameter: the events happen deep in
/// <see cref="Instances.InstanceManager"/>, reached through the converger, the deployer and rolling restarts, and
/// every other caller (the converger's own passes, git pushes) has no one listening. Events of another app (a pass
/// of the converger that inherited this flow) are dropped.
/// </summary>
public static class OperationProgress
{
    private sealed record Sink(string App, ChannelWriter<ProgressEvent> Writer);

    private static readonly AsyncLocal<Sink?> Current = new();

    /// <summary>Sends <paramref name="progress"/> to whoever follows the current operation on <paramref name="app"/>; nothing when no one does.</summary>
    public static void Report(string app, ProgressEvent progress)
    {
        if (Current.Value is { } sink && sink.App == app)
            sink.Writer.TryWrite(progress);
    }

    /// <summary>From here on in this async flow (and the tasks it starts), events of <paramref name="app"/> go to <paramref name="writer"/>.</summary>
    internal static void Follow(string app, ChannelWriter<ProgressEvent> writer) => Current.Value = new Sink(app, writer);
}
