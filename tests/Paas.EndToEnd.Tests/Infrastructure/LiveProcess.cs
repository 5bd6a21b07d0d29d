using System.Diagnostics;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>A command that keeps running (such as `paas logs --tail`), its output lines collected as they arrive, with when they arrived.</summary>
public sealed class LiveProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<(string Line, long At)> _lines = new();
    private readonly List<string> _errors = new();

    public LiveProcess(string file, IEnumerable<string> args, string? workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        _process = Process.Start(ProcessRunner.StartInfo(file, args, workingDirectory, environment))!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_lines) _lines.Add((e.Data, Stopwatch.GetTimestamp())); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_errors) _errors.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_lines) lock (_errors)
                return string.Join('\n', _lines.Select(l => l.Line)) + "\n--- stderr:\n" + string.Join('\n', _errors);
        }
    }

    /// <summary>Waits (bounded) for the first output line containing <paramref name="text"/>; returns when it arrived (a Stopwatch timestamp).</summary>
    public async Task<long?> WaitForLineAsync(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            lock (_lines)
            {
                foreach (var (line, at) in _lines)
                {
                    if (line.Contains(text, StringComparison.Ordinal))
                        return at;
                }
            }
            if (_process.HasExited)
                return null;
            await Task.Delay(10);
        }
        return null;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
    }
}
