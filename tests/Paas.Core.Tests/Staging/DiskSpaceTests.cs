using System.Net;
using Docker.DotNet;
using Paas.Staging;

namespace Paas.Core.Tests.Staging;

/// <summary>Telling a full disk from other staging failures, so the pusher reads the cause, not its symptom.</summary>
public sealed class DiskSpaceTests
{
    [Fact]
    public void IsNoSpace_RecognisesEnospc_AndTheEnginesWording_AndNothingElse()
    {
        Assert.True(DiskSpace.IsNoSpace(new IOException("No space left on device : '/var/lib/paas/tmp/x'", 28)));
        Assert.True(DiskSpace.IsNoSpace(new DockerApiException(HttpStatusCode.InternalServerError,
            "{\"message\":\"write /var/lib/docker/overlay2/abc/diff/app/x: no space left on device\"}")));
        Assert.False(DiskSpace.IsNoSpace(new IOException("Permission denied")));
        Assert.False(DiskSpace.IsNoSpace(new StagingException("The static buildpack's compile step failed (see its output above).")));
    }

    [Fact]
    public void FirstFull_SkipsMissingDirectories_AndPassesOnesWithRoom()
    {
        // The test machine's temp directory has more than a megabyte free; a full one is exercised by `make chaos` (a 16 MB tmpfs).
        Assert.Null(DiskSpace.FirstFull([null, "/nonexistent/paas-disk-space", Path.GetTempPath()]));
    }

    [Fact]
    public void CellFull_IsOneSentence_StartingWithTheReason()
    {
        var message = DiskSpace.CellFull("cell-1", "/var/lib/paas/cache");

        Assert.StartsWith("The cell ran out of disk space while staging (cell-1: /var/lib/paas/cache is full)", message);
        Assert.Single(message.Split(". "));
        Assert.EndsWith(".", message);
    }
}
