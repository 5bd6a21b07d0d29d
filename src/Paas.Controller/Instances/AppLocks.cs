using System.Collections.Concurrent;

namespace Paas.Controller.Instances;

/// <summary>One change at a time per app: a deploy and a convergence pass never interleave.</summary>
public sealed class AppLocks
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();

    public async Task<IDisposable> AcquireAsync(string app, CancellationToken cancellationToken)
    {
        var semaphore = _locks.GetOrAdd(app, _ => new SemaphoreSlim(1, 1));
        await semaphore.WaitAsync(cancellationToken);
        return new Releaser(semaphore);
    }

    private sealed class Releaser(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                semaphore.Release();
        }
    }
}
