using YamlDotNet.RepresentationModel;

namespace Paas.Core.Releases;

/// <summary>What a buildpack's bin/release printed: the buildpack API's YAML document.</summary>
public sealed record BuildpackRelease(IReadOnlyDictionary<string, string> DefaultProcessTypes, IReadOnlyDictionary<string, string> ConfigVars)
{
    public static readonly BuildpackRelease Empty = new(new Dictionary<string, string>(), new Dictionary<string, string>());

    /// <summary>Parses bin/release output; throws <see cref="FormatException"/> with a one-sentence reason when it is not the expected YAML.</summary>
    public static BuildpackRelease Parse(string yaml)
    {
        if (string.IsNullOrWhiteSpace(yaml))
            return Empty;
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new FormatException($"bin/release printed YAML that does not parse: {e.Message}");
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            return Empty;
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new FormatException("bin/release must print a YAML mapping.");
        return new BuildpackRelease(ReadStringMap(root, "default_process_types"), ReadStringMap(root, "config_vars"));
    }

    private static Dictionary<string, string> ReadStringMap(YamlMappingNode root, string key)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!root.Children.TryGetValue(new YamlScalarNode(key), out var node))
            return result;
        if (node is YamlScalarNode { Value: null or "" or "~" })
            return result;
        if (node is not YamlMappingNode map)
            throw new FormatException($"bin/release's '{key}' must be a mapping.");
        foreach (var (k, v) in map.Children)
        {
            if (k is not YamlScalarNode { Value: { } name } || v is not YamlScalarNode { Value: { } value })
                throw new FormatException($"bin/release's '{key}' must map names to strings.");
            result[name] = value;
        }
        return result;
    }
}
