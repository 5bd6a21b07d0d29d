namespace Paas.Cli;

/// <summary>
/// Colour for people, plain text for programs: escape codes only when the stream is a terminal, and never
/// when NO_COLOR is set (https://no-color.org) or TERM is dumb.
/// </summary>
public static class Terminal
{
    public const string Bold = "1";
    public const string Red = "1;31";

    public static bool StdoutHasColour { get; } = Wants(Console.IsOutputRedirected, Environment.GetEnvironmentVariable);
    public static bool StderrHasColour { get; } = Wants(Console.IsErrorRedirected, Environment.GetEnvironmentVariable);

    public static bool Wants(bool redirected, Func<string, string?> environment) =>
        !redirected && string.IsNullOrEmpty(environment("NO_COLOR")) && environment("TERM") != "dumb";

    public static string Paint(string text, string style, bool colour) => colour ? $"\u001b[{style}m{text}\u001b[0m" : text;

    /// <summary>The prefix of every error line, as Heroku's CLI writes it.</summary>
    public static string ErrorPrefix => Paint(" !    ", Red, StderrHasColour);
}
