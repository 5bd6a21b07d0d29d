using System.Runtime.InteropServices;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paas.Core.Instances;

namespace Paas.Cell.Docker;

/// <summary>
/// The named volumes behind `paas storage:mount`: created on first use with the platform's and app's labels, and
/// handed to the app's user. A fresh volume's directory belongs to root, and instances run as uid 1000 with every
/// capability dropped, so without the chown the app could not write its own persistent directory.
/// </summary>
public static class AppVolumes
{
    public const string VolumeLabel = "paas.volume";

    /// <summary>Creates what is missing (idempotent: an existing volume keeps its data) and returns the engine's mounts.</summary>
    public static async Task<IList<Mount>> PrepareAsync(IDockerClient docker, string platformId, InstanceSpec spec, (uint Uid, uint Gid)? owner, CancellationToken cancellationToken)
    {
        var mounts = new List<Mount>();
        foreach (var mount in spec.Mounts)
        {
            var volume = await docker.Volumes.CreateAsync(new VolumesCreateParameters
            {
                Name = mount.Volume,
                Labels = new Dictionary<string, string> { [ContainerLabels.Platform] = platformId, [ContainerLabels.App] = spec.App, [VolumeLabel] = mount.Path },
            }, cancellationToken);
            if (owner is { } o)
                HandOver(volume.Mountpoint, o.Uid, o.Gid);
            mounts.Add(new Mount { Type = "volume", Source = mount.Volume, Target = mount.Path });
        }
        return mounts;
    }

    /// <summary>
    /// Only a still-empty directory owned by root is changed, so files the app made (or an operator's chown) stay as
    /// they are. The agent runs beside its engine as root, so the engine's mount point is a local path.
    /// </summary>
    private static void HandOver(string? mountpoint, uint uid, uint gid)
    {
        if (string.IsNullOrEmpty(mountpoint) || !Directory.Exists(mountpoint) || Directory.EnumerateFileSystemEntries(mountpoint).Any())
            return;
        if (Chown(mountpoint, uid, gid) != 0)
            throw new IOException($"Could not give the volume's directory {mountpoint} to uid {uid}: error {Marshal.GetLastWin32Error()}.");
    }

    [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);

    /// <summary>The numeric user an image runs as ("1000", "1000:1000"); null for a name, which would need the image's /etc/passwd.</summary>
    public static (uint, uint)? NumericUser(string? user)
    {
        if (string.IsNullOrEmpty(user))
            return (0, 0);
        var parts = user.Split(':');
        if (!uint.TryParse(parts[0], out var uid))
            return null;
        var gid = parts.Length > 1 && uint.TryParse(parts[1], out var g) ? g : uid;
        return (uid, gid);
    }
}
