namespace Paas.Staging;

/// <summary>Turns pushed source into a runnable release image.</summary>
public interface IStager
{
    /// <summary>Stages the source, streaming build output line by line; throws <see cref="StagingException"/> with the reason on failure.</summary>
    Task<StagingResult> StageAsync(StagingRequest request, Func<string, Task> output, CancellationToken cancellationToken);
}
