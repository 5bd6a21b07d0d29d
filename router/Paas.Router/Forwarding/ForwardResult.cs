using Yarp.ReverseProxy.Forwarder;

namespace Paas.Router.Forwarding;

/// <summary>How one forwarding attempt ended, in YARP's terms whichever forwarder made it, so one set of retry and error rules applies to both.</summary>
public readonly record struct ForwardResult(ForwarderError Error, Exception? Exception)
{
    public static readonly ForwardResult Success = new(ForwarderError.None, null);
}
