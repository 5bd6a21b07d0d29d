using Paas.Controller.Cells;
using Paas.Controller.State;
using Paas.Core.Cells;
using Paas.Staging.OneOff;
using Paas.Staging.Remote;

namespace Paas.Controller.Tasks;

/// <summary>
/// One-off commands of a release (`paas run`, the release phase, app.json's postdeploy) on a cell chosen by
/// <see cref="TaskPlacement"/>: the cell gets the release's image first (by digest from the registry, when it
/// is not there yet), then runs the command and streams its lines back.
/// </summary>
public sealed class OneOffTasks(TaskPlacement placement, Releases.ReleaseImagePushes pushes)
{
    /// <summary>Past the command's own limit, how long getting the image and the container may take.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Runs <paramref name="command"/> in a one-off container of <paramref name="release"/>; returns how it ended and
    /// on which cell. Throws <see cref="CellTaskException"/> (it could not run there) or <see cref="CellUnavailableException"/>
    /// (no cell, or the cell went away), each one sentence naming the cell.
    /// </summary>
    public async Task<(OneOffResult Result, string Cell)> RunAsync(ReleaseRecord release, string kind, string command, IReadOnlyDictionary<string, string> environment,
        long memoryBytes, TimeSpan limit, Func<string, Task> output, Func<string, Task> progress, CancellationToken cancellationToken, string? preferredCell = null)
    {
        var (cell, image) = await PrepareAsync(release, progress, cancellationToken, preferredCell);
        var job = new OneOffJob(release.App, image, kind, command, environment, memoryBytes, limit.TotalSeconds);
        return (await cell.RunAsync(job, limit + Margin, output, cancellationToken), cell.Name);
    }

    /// <summary>
    /// As <see cref="RunAsync"/>, with the user's terminal: <paramref name="terminal"/> is joined to a TTY in the
    /// container (<see cref="RemoteCell.RunInteractiveAsync"/>).
    /// </summary>
    public async Task<(OneOffResult Result, string Cell)> RunInteractiveAsync(ReleaseRecord release, string kind, string command, IReadOnlyDictionary<string, string> environment,
        long memoryBytes, TimeSpan limit, string term, int columns, int rows, System.Net.WebSockets.WebSocket terminal, CancellationToken cancellationToken)
    {
        var (cell, image) = await PrepareAsync(release, _ => Task.CompletedTask, cancellationToken);
        var job = new OneOffJob(release.App, image, kind, command, environment, memoryBytes, limit.TotalSeconds);
        return (await cell.RunInteractiveAsync(new InteractiveJob(job, term, columns, rows), terminal, limit + Margin, cancellationToken), cell.Name);
    }

    private async Task<(RemoteCell Cell, string Image)> PrepareAsync(ReleaseRecord release, Func<string, Task> progress, CancellationToken cancellationToken, string? preferredCell = null)
    {
        var cell = await placement.ChooseAsync(preferredCell);
        try
        {
            // On the cell that built the image (the release phase's), no registry round trip.
            var (image, pull) = await pushes.ImageForAsync(release, cell.Name, progress, cancellationToken);
            if (pull)
                await cell.PrepareImageAsync(image, progress, cancellationToken);
            return (cell, image);
        }
        catch (Exception e) when (e is ImageUnavailableException or Paas.Staging.StagingException)
        {
            throw new CellTaskException(e.Message);
        }
    }
}
