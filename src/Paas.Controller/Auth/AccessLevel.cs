namespace Paas.Controller.Auth;

/// <summary>What a caller may do with an app: owners (and operators) also destroy it and manage collaborators.</summary>
public enum AccessLevel
{
    None,
    Collaborator,
    Owner,
}
