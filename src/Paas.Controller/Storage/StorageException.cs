namespace Paas.Controller.Storage;

/// <summary>A storage request that cannot be carried out; nothing was changed. <see cref="Id"/> is the API error id.</summary>
public sealed class StorageException(int status, string id, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Id { get; } = id;
}
