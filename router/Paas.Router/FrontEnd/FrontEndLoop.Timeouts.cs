using Paas.Router.Forwarding;
using Paas.Router.Forwarding.Http1;
using static Paas.Router.FrontEnd.Libc;
using static Paas.Router.FrontEnd.SocketIo;

namespace Paas.Router.FrontEnd;

// Time: connect and backend timeouts, idle clients and idle backend connections, checked every tick.
internal sealed unsafe partial class FrontEndLoop
{
    private void CheckTimeouts(long now)
    {
        if (_acceptPaused)
        {
            _acceptPaused = false;
            SetListenerInterest(EpollIn);
        }

        var channels = _set.Slots;
        for (var i = 0; i < channels.Length; i++)
        {
            if (channels[i] is not { Closed: false } channel)
            {
                continue;
            }

            switch (channel)
            {
                case BackendLink { Client: { } client } link:
                    if (link.State == BackendLink.Phase.Connecting)
                    {
                        if (now - link.ConnectStarted > ConnectTimeoutMs)
                        {
                            AttemptFailed(client, connectFailure: true);
                        }
                    }
                    else if (now - link.LastActivity > client.TimeoutMs && !client.HasPendingOutput)
                    {
                        if (client.HeadSent)
                        {
                            AbortExchange(client, RouterErrorPage.Timeout);
                        }
                        else
                        {
                            // Not retried: the app may still be working on it, and a retry would double a slow app's load.
                            Fail(client, StatusCodes.Status504GatewayTimeout, RouterErrorPage.Timeout, $"{client.Pool!.App} did not answer in time.");
                        }
                    }

                    break;

                case BackendLink link:
                    if (now - link.LastActivity > BackendConnectionMonitor.IdleTimeout.TotalMilliseconds
                        || now - link.Created > BackendConnectionMonitor.Lifetime.TotalMilliseconds)
                    {
                        Close(link);
                    }

                    break;

                case ClientConnection client:
                    var idleFor = now - client.LastActivity;
                    if ((client.State == ClientConnection.Phase.ReadingHead
                            && (client.InputLength == 0 ? idleFor > KeepAliveTimeoutMs : now - client.HeadStarted > HeadTimeoutMs))
                        || (client.State == ClientConnection.Phase.Closing && idleFor > KeepAliveTimeoutMs)
                        || (client.State == ClientConnection.Phase.Exchanging && client.HasPendingOutput && idleFor > KeepAliveTimeoutMs))
                    {
                        if (client.State == ClientConnection.Phase.Exchanging)
                        {
                            AbortExchange(client, RouterErrorPage.ClientClosed);
                        }
                        else
                        {
                            CloseClient(client);
                        }
                    }

                    break;
            }
        }

        // Idle lists keep closed links until popped; drop them so an address no longer used frees its buffers.
        foreach (var (pool, idle) in _idle)
        {
            idle.RemoveAll(link => link.Closed);
            if (idle.Count == 0)
            {
                _idle.Remove(pool);
            }
        }
    }
}
