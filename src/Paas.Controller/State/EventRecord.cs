namespace Paas.Controller.State;

/// <summary>Something that happened to an app: a deploy, a scale, a crash. Kept for `paas events`.</summary>
public sealed record EventRecord(string App, DateTimeOffset At, string Actor, string Kind, string Message);
