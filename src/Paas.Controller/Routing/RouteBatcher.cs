using Paas.Core.Routing;

namespace Paas.Controller.Routing;

/// <summary>
/// Routes instances that became healthy at about the same time together: one Redis transaction for the
/// batch and one wait for every router to acknowledge its last version, instead of one write and one wait
/// per instance (a group commit). Whoever asks while a batch is out joins the next one, so a lone instance
/// is routed at once and a burst of twenty shares a couple of waits.
/// </summary>
public sealed class RouteBatcher(Func<IReadOnlyList<RouteEntry>, Task<long>> publish, Func<long, CancellationToken, Task<bool>> waitApplied)
{
    private readonly Lock _gate = new();
    private List<(RouteEntry Entry, TaskCompletionSource<bool> Done)> _queued = [];
    private bool _flushing;

    public RouteBatcher(IRoutePublisher routes, TimeSpan confirmation, TimeProvider time)
        : this(routes.AddRoutesAsync, (version, ct) => routes.WaitAppliedAsync(version, confirmation, time, ct))
    {
    }

    /// <summary>Routes the instance; true once every live router serves it, false if not all confirmed in time.</summary>
    public Task<bool> RouteAsync(RouteEntry entry, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _queued.Add((entry, done));
            if (!_flushing)
            {
                _flushing = true;
                _ = Task.Run(FlushAsync, CancellationToken.None);
            }
        }
        return done.Task.WaitAsync(cancellationToken);
    }

    private async Task FlushAsync()
    {
        while (true)
        {
            List<(RouteEntry Entry, TaskCompletionSource<bool> Done)> batch;
            lock (_gate)
            {
                if (_queued.Count == 0)
                {
                    _flushing = false;
                    return;
                }
                batch = _queued;
                _queued = [];
            }
            try
            {
                // Not the caller's token: the batch is shared, and one caller giving up must not fail the others.
                var version = await publish(batch.Select(b => b.Entry).ToList());
                var applied = await waitApplied(version, CancellationToken.None);
                foreach (var (_, done) in batch)
                    done.TrySetResult(applied);
            }
            catch (Exception e)
            {
                foreach (var (_, done) in batch)
                    done.TrySetException(e);
            }
        }
    }
}
