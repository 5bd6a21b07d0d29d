namespace Paas.Controller.Releases;

/// <summary>Why a release operation was refused, so the API can answer with the right status.</summary>
public enum ReleaseProblem
{
    Invalid,
    NotFound,
    Conflict,
    Failed,
}
