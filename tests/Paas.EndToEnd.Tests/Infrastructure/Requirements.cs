using Docker.DotNet;
using StackExchange.Redis;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The real parts end-to-end tests need. They are never skipped: a missing engine, Redis or stack image
/// fails the run with a sentence saying what to start (`make test` starts them all).
/// </summary>
public static class Requirements
{
    public static async Task EnsureAsync(string redis, string stackImage)
    {
        try
        {
            using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
            await docker.System.PingAsync();
            await docker.Images.InspectImageAsync(stackImage);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"End-to-end tests need a running Docker engine with the {stackImage} image (run `make test`, which sets both up): {e.Message}", e);
        }
        try
        {
            using var connection = await ConnectionMultiplexer.ConnectAsync(redis + ",connectTimeout=3000");
            await connection.GetDatabase().PingAsync();
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"End-to-end tests need Redis at {ConfigurationOptions.Parse(redis).ToString(includePassword: false)} (run `make test`, which starts it): {e.Message}", e);
        }
    }

    /// <summary>
    /// What test hosts (<see cref="TestNetwork"/>) need: root, for network namespaces and a dockerd each, and the
    /// programs below. A missing one fails the run with the Debian package to install (deploy/setup.sh installs them all).
    /// </summary>
    public static void EnsureTestHostTools()
    {
        if (!Environment.IsPrivilegedProcess)
            throw new InvalidOperationException("Multi-host tests create network namespaces and start a dockerd per host, so they must run as root.");
        foreach (var (program, package) in TestHostTools)
        {
            if (FindProgram(program) is null)
                throw new InvalidOperationException($"Multi-host tests need `{program}`: install the Debian package {package} (`make test` does, through deploy/setup.sh).");
        }
        if (!IsStaticExecutable("/bin/busybox"))
            throw new InvalidOperationException("Multi-host tests need a statically linked /bin/busybox for their tiny test image: install the Debian package busybox-static instead of busybox.");
    }

    private static readonly (string Program, string Package)[] TestHostTools =
    [
        ("ip", "iproute2"),
        ("nsenter", "util-linux"),
        ("iptables", "iptables"),
        ("dockerd", "docker.io"),
        ("docker-registry", "docker-registry"),
        ("htpasswd", "apache2-utils"),
        ("busybox", "busybox-static"),
    ];

    public static string? FindProgram(string name)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>True for an ELF executable without an interpreter (PT_INTERP), which runs in an image holding nothing else.</summary>
    private static bool IsStaticExecutable(string path)
    {
        if (!File.Exists(path))
            return false;
        var elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2)
            return false;
        var programHeaders = (int)BitConverter.ToUInt64(elf, 0x20);
        var entrySize = BitConverter.ToUInt16(elf, 0x36);
        var count = BitConverter.ToUInt16(elf, 0x38);
        const uint interpreter = 3;
        for (var i = 0; i < count; i++)
        {
            if (BitConverter.ToUInt32(elf, programHeaders + i * entrySize) == interpreter)
                return false;
        }
        return true;
    }
}
