using System.Runtime.CompilerServices;
using Paas.Core.Logs;

namespace Paas.Controller.Heroku;

/// <summary>`heroku logs` from the app's log stream (instances, staging, router, platform events): the lines `paas logs` shows.</summary>
public sealed class AppLogStreamSource(AppLogReader reader) : IHerokuLogSource
{
    public async IAsyncEnumerable<string> ReadAsync(string app, HerokuLogQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = new AppLogFilter(query.Source, query.Dyno);
        var (history, lastId) = await reader.ReadLastAsync(app, query.Lines, filter);
        foreach (var line in history)
            yield return line.ToHerokuFormat();
        if (!query.Tail)
            yield break;
        await foreach (var line in reader.FollowAsync(app, lastId, filter, cancellationToken))
            yield return line.ToHerokuFormat();
    }
}
