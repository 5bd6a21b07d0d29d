using System.Collections.Concurrent;

namespace Paas.Controller.Instances;

/// <summary>One change at a time per app: a deploy and a convergence pass never interleave.</summary>
public sealed class AppLocks
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();
    private readonly ConcurrentDictionary<string, long> _generations = new();

    public async Task<IDisposable> AcquireAsync(string app, CancellationToken cancellationToken)
    {
        var semaphore = _locks.GetOrAdd(app, _ => new SemaphoreSlim(1, 1));
        await semaphore.WaitAsync(cancellationToken);
        return new Releaser(semaphore, () => _generations.AddOrUpdate(app, 1, (_, g) => g + 1));
    }

    /// <summary>
    /// How many times the app's lock has been let go: a reader of the app's state taken outside the lock
    /// (a full pass's snapshot) knows it is stale when this moved, since whoever held the lock may have
    /// started or stopped instances (seen: a pass that read while a scale to 20 held the lock started 20 duplicates).
    /// </summary>
    public long Generation(string app) => _generations.GetValueOrDefault(app);

    private sealed class Releaser(SemaphoreSlim semaphore, Action released) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                released();
                semaphore.Release();
            }
        }
    }
}
