using System.Net.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Paas.Router.Forwarding;

/// <summary>
/// Recognises a forwarding failure that happened while opening the TCP connection to the instance,
/// i.e. before a single byte of the request left the router.
/// </summary>
public static class ConnectFailure
{
    public static bool IsBeforeRequestSent(ForwarderError error, Exception? exception) => error switch
    {
        // SocketsHttpHandler tags failures of the connect step itself as ConnectionError; failures on an
        // established connection (reset mid-request, bad response) carry other categories.
        ForwarderError.Request => Chain(exception).Any(e => e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError }),
        // ConnectTimeout surfaces as a cancellation wrapping a TimeoutException; YARP's own activity
        // timeout and client aborts cancel without one, and those may come after bytes were sent.
        ForwarderError.RequestTimedOut => exception is OperationCanceledException && Chain(exception).Any(e => e is TimeoutException),
        _ => false,
    };

    private static IEnumerable<Exception> Chain(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
