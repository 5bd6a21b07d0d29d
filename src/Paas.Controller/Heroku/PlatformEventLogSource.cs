using System.Globalization;
using System.Runtime.CompilerServices;
using Paas.Controller.State;

namespace Paas.Controller.Heroku;

/// <summary>
/// Log lines from the platform's event record (deploys, scales, crashes, restarts) as <c>platform[api]</c>
/// lines: what `heroku logs` shows when no store of the apps' own output is available.
/// </summary>
public sealed class PlatformEventLogSource(PlatformDatabase db, TimeProvider time) : IHerokuLogSource
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public async IAsyncEnumerable<string> ReadAsync(string app, HerokuLogQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (query.Source is { Length: > 0 } source && source != "platform")
            yield break;
        if (query.Dyno is { Length: > 0 })
            yield break;
        var last = DateTimeOffset.MinValue;
        foreach (var e in db.Events(app, query.Lines))
        {
            last = e.At;
            yield return Format(e);
        }
        while (query.Tail && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(PollInterval, time, cancellationToken);
            foreach (var e in db.Events(app, 100).Where(e => e.At > last))
            {
                last = e.At;
                yield return Format(e);
            }
        }
    }

    private static string Format(EventRecord e) =>
        $"{e.At.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture)} platform[api]: {e.Message} by {e.Actor}";
}
