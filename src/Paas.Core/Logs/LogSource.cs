namespace Paas.Core.Logs;

/// <summary>Where a log line came from; Heroku's names, so its users read the output without a legend.</summary>
public static class LogSource
{
    /// <summary>stdout and stderr of an app's instances, tagged with the process (<c>web.1</c>).</summary>
    public const string App = "app";
    /// <summary>Build output of a push (and its release phase and rollout).</summary>
    public const string Staging = "staging";
    /// <summary>One access line per request the router forwarded to the app.</summary>
    public const string Router = "router";
    /// <summary>What the platform did to the app: deployed, scaled, crashed, dropped lines.</summary>
    public const string Platform = "platform";

    public static readonly IReadOnlyList<string> All = [App, Staging, Router, Platform];

    public static bool IsKnown(string? source) => source is not null && All.Contains(source);
}
