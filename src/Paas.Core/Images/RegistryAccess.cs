namespace Paas.Core.Images;

/// <summary>
/// How one component reaches the platform's image registry (PAAS_REGISTRY, PAAS_REGISTRY_USERNAME,
/// PAAS_REGISTRY_PASSWORD). The controller and each cell may know the registry by different addresses
/// (the controller by loopback, a cell host by the LAN address): a release's image is a digest, the same
/// content at any address, so each side pulls or pushes it at its own.
/// </summary>
public sealed record RegistryAccess(string Address, string? Username = null, string? Password = null)
{
    /// <summary>
    /// The same image at this registry's address: `REG/paas/app-x@sha256:…` becomes `ADDRESS/paas/app-x@sha256:…`.
    /// A reference without a registry host (a local tag) is returned as it is.
    /// </summary>
    public string Rehost(string image)
    {
        var slash = image.IndexOf('/');
        if (slash < 0 || !image.Contains('@'))
            return image;
        var first = image[..slash];
        // Docker's rule: the first component names a registry when it has a dot, a colon or is localhost.
        var namesRegistry = first.Contains('.') || first.Contains(':') || first == "localhost";
        return namesRegistry ? Address + image[slash..] : image;
    }

    public static RegistryAccess? FromEnvironment(Func<string, string?> read) => From(new Configuration.SettingsReader(read));

    public static RegistryAccess? From(Configuration.SettingsReader env) =>
        env.Optional("PAAS_REGISTRY") is { } address
            ? new RegistryAccess(address.TrimEnd('/'), env.Optional("PAAS_REGISTRY_USERNAME"), env.Optional("PAAS_REGISTRY_PASSWORD"))
            : null;
}
