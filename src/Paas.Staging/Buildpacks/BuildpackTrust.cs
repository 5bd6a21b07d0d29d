namespace Paas.Staging.Buildpacks;

/// <summary>
/// Whose request names a buildpack decides what its fetch may reach. Operators run the platform and may
/// name buildpacks on its own disk (file://) or network. A tenant's buildpack is fetched from public hosts
/// only: a file:// URL would let one tenant read another's repository on the controller's disk, and a
/// private or loopback address would let a tenant probe the platform's own ports.
/// </summary>
public enum BuildpackTrust
{
    Tenant,
    Operator,
}
