using System.IO.Compression;
using System.Text;
using Paas.Controller.State;

namespace Paas.Controller.Releases;

/// <summary>
/// The build output of each release (what `git push` showed), for `paas releases:output`: only its last
/// <see cref="LimitBytes"/> (the end of a build is where a failure shows). Kept in the state store, not on one
/// controller's disk: a standby that takes over serves it, it is pruned with its release's image
/// (<see cref="Prune"/>), and it goes with its app. Redis would have served every controller too, but it holds
/// no data for the life of a release (it may be restarted empty); the state store does. Stored gzip'd and at most
/// <see cref="MaxStoredBytes"/>, so one write stays well under etcd's request limit (~1.5 MB by default).
/// </summary>
public sealed class BuildOutputs(IStateStore store)
{
    public const int LimitBytes = 1024 * 1024;

    /// <summary>The most one release's stored (compressed) output takes; a build's text rarely compresses worse than 3:1.</summary>
    public const int MaxStoredBytes = 1024 * 1024;

    /// <summary>Collects a build's lines as they are printed; <see cref="Recorder.Save"/> stores them once the release exists.</summary>
    public Recorder Begin(string app) => new(this, app);

    public string? Read(string app, int version) => store.BuildOutput(app, version) is { } stored ? Decompress(stored) : null;

    /// <summary>Deletes the outputs of the app's releases that are not kept (those whose images are pruned); how many went.</summary>
    public int Prune(string app, IEnumerable<int> keptVersions) => store.PruneBuildOutputs(app, keptVersions.ToHashSet());

    /// <summary>Stores the lines, dropping the oldest until the compressed text fits <see cref="MaxStoredBytes"/>.</summary>
    private void Save(string app, int version, IReadOnlyList<string> lines)
    {
        var skip = 0;
        var stored = Compress(lines);
        while (stored.Length > MaxStoredBytes && skip < lines.Count - 1)
        {
            // Text that compresses this badly is rare: halving what is left keeps this to a few passes.
            skip += Math.Max(1, (lines.Count - skip) / 2);
            stored = Compress(lines.Skip(skip));
        }
        store.SaveBuildOutput(app, version, stored);
    }

    private static byte[] Compress(IEnumerable<string> lines)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        using (var writer = new StreamWriter(gzip, new UTF8Encoding(false)))
        {
            foreach (var line in lines)
            {
                writer.Write(line);
                writer.Write('\n');
            }
        }
        return buffer.ToArray();
    }

    private static string Decompress(byte[] stored)
    {
        using var gzip = new GZipStream(new MemoryStream(stored), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public sealed class Recorder(BuildOutputs outputs, string app)
    {
        private readonly Queue<string> _lines = new();
        private long _bytes;

        public void Add(string line)
        {
            lock (_lines)
            {
                _lines.Enqueue(line);
                _bytes += Encoding.UTF8.GetByteCount(line) + 1;
                while (_bytes > LimitBytes && _lines.Count > 1)
                    _bytes -= Encoding.UTF8.GetByteCount(_lines.Dequeue()) + 1;
            }
        }

        /// <summary>Stores the lines as the output of release <paramref name="version"/>, in one write (a reader never sees half a build).</summary>
        public void Save(int version)
        {
            List<string> lines;
            lock (_lines)
                lines = [.. _lines];
            outputs.Save(app, version, lines);
        }
    }
}
