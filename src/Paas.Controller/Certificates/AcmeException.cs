namespace Paas.Controller.Certificates;

/// <summary>An ACME step that failed, with one sentence for the user (the server's problem detail when it sent one).</summary>
public sealed class AcmeException(string message, string? problemType = null) : Exception(message)
{
    /// <summary>The RFC 8555 §6.7 error type (urn:ietf:params:acme:error:...), when the server sent a problem document.</summary>
    public string? ProblemType { get; } = problemType;
}
