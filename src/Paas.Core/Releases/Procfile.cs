namespace Paas.Core.Releases;

/// <summary>Heroku's Procfile: one "type: command" per line.</summary>
public static class Procfile
{
    /// <summary>Parses a Procfile; throws <see cref="FormatException"/> with a one-sentence reason on bad input.</summary>
    public static IReadOnlyDictionary<string, string> Parse(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r').Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var colon = line.IndexOf(':');
            if (colon <= 0)
                throw new FormatException($"Procfile line {lineNumber} is not of the form 'type: command'.");
            var type = line[..colon].Trim();
            var command = line[(colon + 1)..].Trim();
            if (!ProcessType.IsValid(type))
                throw new FormatException($"Procfile line {lineNumber}: process type '{type}' may contain only letters, digits, '-' and '_'.");
            if (command.Length == 0)
                throw new FormatException($"Procfile line {lineNumber}: process type '{type}' has no command.");
            if (!result.TryAdd(type, command))
                throw new FormatException($"Procfile line {lineNumber}: process type '{type}' is defined twice.");
        }
        return result;
    }
}
