namespace Paas.Controller.Formation;

/// <summary>A scale request that cannot be carried out; nothing was changed. <see cref="Id"/> is the API error id.</summary>
public sealed class FormationException(string id, string message) : Exception(message)
{
    public string Id { get; } = id;
}
