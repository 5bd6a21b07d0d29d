using Paas.Controller.State;

namespace Paas.Controller.Auth;

/// <summary>
/// Who may work on which app: its owner and collaborators; operators (admin role) on every app. Someone
/// without access is told the app does not exist, so names of other people's apps do not leak.
/// </summary>
public sealed class AppAccess(IStateStore database)
{
    public AccessLevel LevelOf(Caller caller, string app)
    {
        if (database.FindApp(app) is not { } record)
            return AccessLevel.None;
        if (caller.IsAdmin || record.Owner == caller.Name)
            return AccessLevel.Owner;
        return database.IsCollaborator(app, caller.Name) ? AccessLevel.Collaborator : AccessLevel.None;
    }

    public bool CanSee(Caller caller, string app) => LevelOf(caller, app) != AccessLevel.None;
}
