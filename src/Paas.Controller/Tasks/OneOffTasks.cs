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
public sealed class OneOffTasks(TaskPlacement placement)
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
        var cell = await placement.ChooseAsync(preferredCell);
        if (release.RegistryImage is not null)
        {
            try
            {
                await cell.PrepareImageAsync(release.RunImage, progress, cancellationToken);
            }
            catch (ImageUnavailableException e)
            {
                throw new CellTaskException(e.Message);
            }
        }
        var job = new OneOffJob(release.App, release.RunImage, kind, command, environment, memoryBytes, limit.TotalSeconds);
        return (await cell.RunAsync(job, limit + Margin, output, cancellationToken), cell.Name);
    }
}
