namespace Paas.Router;

/// <summary>What serves plain HTTP on the public port (<see cref="RouterSettings.FrontEnd"/>).</summary>
public enum FrontEndKind
{
    /// <summary>The router's own epoll loops, one per core, handing anything unusual to Kestrel.</summary>
    EventLoop,

    /// <summary>Kestrel for every connection.</summary>
    Kestrel,
}
