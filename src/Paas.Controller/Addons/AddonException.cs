namespace Paas.Controller.Addons;

/// <summary>An add-on request that cannot be done, with one sentence for the user and the HTTP status that fits.</summary>
public sealed class AddonException(int status, string id, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Id { get; } = id;
}
