using System.Text;
using Paas.Core.Configuration;

namespace Paas.Controller.Releases;

/// <summary>
/// The build output of each release (what `git push` showed), for `paas releases:output`. Kept on the controller's data
/// directory, one file per release, only its last <see cref="LimitBytes"/> (the end of a build is where a failure shows).
/// </summary>
public sealed class BuildOutputs(PaasSettings settings)
{
    public const int LimitBytes = 1024 * 1024;

    private string PathOf(string app, int version) => Path.Combine(settings.DataDirectory, "build-output", app, $"v{version}.log");

    /// <summary>Moves the app's build outputs to its new name (`apps:rename`); nothing when there are none or they moved already.</summary>
    public void Move(string app, string newName)
    {
        var from = Path.Combine(settings.DataDirectory, "build-output", app);
        var to = Path.Combine(settings.DataDirectory, "build-output", newName);
        if (Directory.Exists(from) && !Directory.Exists(to))
            Directory.Move(from, to);
    }

    /// <summary>Collects a build's lines as they are printed; <see cref="Recorder.Save"/> stores them once the release exists.</summary>
    public Recorder Begin(string app) => new(this, app);

    public string? Read(string app, int version)
    {
        var path = PathOf(app, version);
        return File.Exists(path) ? File.ReadAllText(path) : null;
    }

    public sealed class Recorder(BuildOutputs store, string app)
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

        public void Save(int version)
        {
            var path = store.PathOf(app, version);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string text;
            lock (_lines)
                text = string.Concat(_lines.Select(l => l + "\n"));
            // Written whole then renamed: a reader never sees half a build.
            File.WriteAllText(path + ".tmp", text);
            File.Move(path + ".tmp", path, overwrite: true);
        }
    }
}
