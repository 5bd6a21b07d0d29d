namespace Paas.Core.Instances;

/// <summary>
/// The Docker network every app, one-off and staging container joins on each engine: a bridge with
/// inter-container traffic off, so no container can open a connection to another (another tenant's web
/// instance, say) and bypass the router, and with new connections to the host itself refused (its
/// platform ports); each still reaches the outside world, and the router reaches instances through their
/// published ports. One network rather than one per app: an engine has room for
/// only about thirty networks from Docker's default address pools.
/// </summary>
public static class IsolatedNetwork
{
    public const string Name = "paas-isolated";

    public const string Driver = "bridge";

    /// <summary>Docker's bridge driver option that drops traffic between containers on the same bridge.</summary>
    public static readonly IReadOnlyDictionary<string, string> Options = new Dictionary<string, string>
    {
        ["com.docker.network.bridge.enable_icc"] = "false",
    };
}
