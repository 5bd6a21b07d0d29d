namespace Paas.Controller.State;

/// <summary>
/// The stored records that carry their app's name inside them (not only in their key), rewritten for a rename
/// (<see cref="IStateStore.RenameApp"/>). One place for both stores, so a record that gains an app field is
/// moved by both or neither.
/// </summary>
public static class RenamedRecords
{
    public static DeployRecord Deploy(DeployRecord deploy, string newName) =>
        deploy with { App = newName, Release = deploy.Release is { } release ? release with { App = newName } : null };

    public static VolumeRecord Volume(VolumeRecord volume, string newName) => volume with { App = newName };

    /// <summary>The add-on as owned by, or attached to, the renamed app; null when it names neither.</summary>
    public static AddonRecord? Addon(AddonRecord addon, string name, string newName)
    {
        if (addon.App != name && addon.Attachments.All(a => a.App != name))
            return null;
        return addon with
        {
            App = addon.App == name ? newName : addon.App,
            Attachments = addon.Attachments.Select(a => a.App == name ? a with { App = newName } : a).ToList(),
        };
    }
}
