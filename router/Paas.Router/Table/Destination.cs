using Paas.Router.Forwarding.Http1;

namespace Paas.Router.Table;

/// <summary>
/// A routable instance as held in a snapshot: its configuration, the URL prefix the forwarder needs
/// (built once here rather than once per request) and its runtime state.
/// </summary>
public sealed class Destination
{
    public Destination(InstanceEndpoint config, EndpointState state)
    {
        Config = config;
        State = state;
        DestinationPrefix = "http://" + config.Address;
        Connections = BackendConnectionPool.For(config.Address);
    }

    public InstanceEndpoint Config { get; }

    public EndpointState State { get; }

    public string DestinationPrefix { get; }

    /// <summary>Idle keep-alive connections to the instance's address, for <see cref="Http1Forwarder"/>.</summary>
    public BackendConnectionPool Connections { get; }

    public string Instance => Config.Instance;

    public string App => Config.App;

    public string Address => Config.Address;
}
