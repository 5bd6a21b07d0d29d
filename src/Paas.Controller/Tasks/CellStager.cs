using Paas.Controller.Cells;
using Paas.Core.Configuration;
using Paas.Core.Releases;
using Paas.Staging;
using Paas.Staging.Buildpacks;
using Paas.Staging.Remote;

namespace Paas.Controller.Tasks;

/// <summary>
/// Stages a push on a cell (<see cref="TaskPlacement"/>): buildpacks are fetched here, under the controller's
/// rules (a tenant's from public hosts only, as nobody), then the source, the buildpacks and the job go to the
/// cell as one <see cref="StagingBundle"/>, and the build's lines come back as the cell prints them. The cell
/// builds the image with its own engine and pushes it to the registry when there is one: staging returns once the
/// image is built, with the push under way (<see cref="StagingResult.RegistryPush"/>).
/// </summary>
public sealed class CellStager(TaskPlacement placement, BuildpackFetcher fetcher, PaasSettings settings, string buildpacksDirectory) : IStager
{
    /// <summary>Past the staging limit, how long the rest may take: extracting the source, committing, pushing the image.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(10);

    public async Task<StagingResult> StageAsync(StagingRequest request, Func<string, Task> output, CancellationToken cancellationToken)
    {
        // Fetched before a cell is asked: a buildpack that cannot be fetched fails fast, naming itself.
        var chosen = request.Buildpacks ?? [];
        var staged = new List<StagedBuildpack>();
        var directories = new List<string?>();
        foreach (var buildpack in chosen)
        {
            if (buildpack.Kind == BuildpackKind.BuiltIn)
            {
                if (!File.Exists(Path.Combine(buildpacksDirectory, buildpack.Location, "bin", "compile")))
                    throw new StagingException($"Unknown buildpack '{buildpack}': use a built-in one ({string.Join(", ", BuiltInNames())}), a git URL or a .tgz URL.");
                staged.Add(new StagedBuildpack(buildpack.Text, buildpack.Location));
                directories.Add(null);
                continue;
            }
            directories.Add(await fetcher.FetchAsync(buildpack, request.App, request.Trust, output, cancellationToken));
            staged.Add(new StagedBuildpack(buildpack.Text, null));
        }
        // A Dockerfile build sees only the config vars it was given as build args: the rest stay run-time secrets.
        var job = new StagingJob(request.App, request.Release, request.SourceVersion,
            request.Dockerfile ? new Dictionary<string, string>() : request.ConfigVars, staged,
            settings.StagingTimeout.TotalSeconds, settings.StagingMemoryBytes, settings.StagingOutputLimitBytes,
            request.Dockerfile ? null : settings.BuildDefaults)
        {
            Builder = request.Dockerfile ? Paas.Staging.Dockerfiles.DockerfileStager.Builder : null,
            Image = request.Image,
            RegistryUsername = request.RegistryUsername,
            RegistryPassword = request.RegistryPassword,
            BuildArgs = request.Dockerfile ? request.BuildArgs : null,
            AllowRoot = settings.DockerfileAllowRoot,
        };

        // Spooled to disk rather than memory: a push may be large, and the bundle names its size up front.
        var scratch = Path.Combine(settings.DataDirectory, "tmp");
        Directory.CreateDirectory(scratch);
        var sourceTar = Path.Combine(scratch, $"source-{request.App}-{Guid.NewGuid():N}.tar");
        try
        {
            await using (var file = File.Create(sourceTar))
                await request.WriteSourceTar(file, cancellationToken);
            RemoteCell cell;
            try
            {
                cell = await placement.ChooseAsync();
            }
            catch (CellUnavailableException e)
            {
                throw new StagingException(e.Message);
            }
            StagedImage image;
            Task<string>? push;
            try
            {
                (image, push) = await cell.StageAsync((stream, ct) => StagingBundle.WriteAsync(stream, job, sourceTar, buildpacksDirectory, directories, ct),
                    settings.StagingTimeout + Margin, output, PushOutput, cancellationToken);
            }
            catch (CellTaskException e)
            {
                throw new StagingException(e.Message);
            }
            catch (CellUnavailableException e)
            {
                throw new StagingException(e.Message);
            }
            return new StagingResult(image.Image, image.Buildpack, image.DetectedAs, new BuildpackRelease(image.ProcessTypes, image.ConfigVars))
            {
                // The cell pushed at its own address for the registry; the release records the controller's (RegistryAccess.Rehost).
                RegistryImage = image.RegistryImage is { } pushed ? Rehost(pushed) : null,
                RegistryPush = push is null ? null : PushedAsync(push),
                Cell = cell.Name,
            };
        }
        finally
        {
            File.Delete(sourceTar);
        }

        string Rehost(string pushed) => settings.Registry?.Rehost(pushed) ?? pushed;

        async Task<string> PushedAsync(Task<string> pushing)
        {
            try
            {
                return Rehost(await pushing);
            }
            catch (Exception e) when (e is CellTaskException or CellUnavailableException)
            {
                throw new StagingException(e.Message);
            }
        }

        // The push may outlive the deploy that started it (a failed release phase): its lines then have nowhere to go.
        async Task PushOutput(string line)
        {
            try
            {
                await output(line);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
            {
            }
        }
    }

    private IEnumerable<string> BuiltInNames() =>
        File.Exists(Path.Combine(buildpacksDirectory, "order"))
            ? File.ReadAllLines(Path.Combine(buildpacksDirectory, "order")).Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0)
            : [];
}
