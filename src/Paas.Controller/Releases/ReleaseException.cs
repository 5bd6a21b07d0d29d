namespace Paas.Controller.Releases;

/// <summary>A config change or rollback that was refused or did not come up; nothing was changed.</summary>
public sealed class ReleaseException(ReleaseProblem problem, string message) : Exception(message)
{
    public ReleaseProblem Problem { get; } = problem;
}
