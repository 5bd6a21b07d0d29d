namespace Paas.Controller.State;

/// <summary>
/// The stored records that carry their app's name inside them (not only in their key), rewritten for a rename
/// (<see cref="IStateStore.RenameApp"/>). One place for both stores, so a record that gains an app field is
/// moved by both or neither.
/// </summary>
public static class RenamedRecords
{
    public static DeployRecord Deploy(DeployRecord deploy, string name, string newName) =>
        deploy with { App = newName, Release = deploy.Release is { } release ? release with { App = newName, Image = Image(release.Image, name, newName) } : null };

    /// <summary>
    /// A release image built here is named after its app (paas/app-NAME:vN); after a rename it is that name's no
    /// more, since an app created later under the old name builds its own paas/app-OLD:vN over it (and would then
    /// run in the renamed app's place). <see cref="Apps.AppRename"/> re-tags the images on the engine to match.
    /// Other images (`paas deploy:image`) keep their reference.
    /// </summary>
    public static string Image(string image, string name, string newName)
    {
        var repository = Paas.Staging.Buildpacks.BuildpackStager.ImageName(name) + ":";
        return image.StartsWith(repository, StringComparison.Ordinal)
            ? Paas.Staging.Buildpacks.BuildpackStager.ImageName(newName) + ":" + image[repository.Length..]
            : image;
    }

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
