namespace Paas.Core.Releases;

public static class ProcessType
{
    /// <summary>The process type that receives HTTP routes.</summary>
    public const string Web = "web";

    public static bool IsValid(string type) =>
        type.Length is > 0 and <= 30 && type.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
