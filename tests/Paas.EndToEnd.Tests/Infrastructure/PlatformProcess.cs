using System.Diagnostics;
using System.Text;

namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A long-running process (router, controller, cell agent, a test host's dockerd) started from its built dll or
/// a start description, its output kept for diagnosis.
/// </summary>
public sealed class PlatformProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public PlatformProcess(string dll, IReadOnlyDictionary<string, string> environment)
        : this(ProcessRunner.StartInfo("dotnet", [dll], null, environment))
    {
    }

    public PlatformProcess(ProcessStartInfo start)
    {
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public int Id => _process.Id;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Polls a URL until it answers 200, failing early (with the process's output) if the process dies.</summary>
    public async Task WaitReadyAsync(string url, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"Process exited with {_process.ExitCode} before it was ready:\n{Output}");
            try
            {
                if ((await http.GetAsync(url)).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{url} was not ready within {timeout.TotalSeconds} s:\n{Output}");
    }

    /// <summary>Stops the process the way Ctrl-C would (SIGTERM), then kills it if it lingers past <paramref name="grace"/> (10 s unless told).</summary>
    public void Stop(TimeSpan? grace = null)
    {
        if (_process.HasExited)
            return;
        Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        if (!_process.WaitForExit(grace ?? TimeSpan.FromSeconds(10)))
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>Writes to the process's standard input (started with it redirected), closing it after when told.</summary>
    public async Task WriteInputAsync(string text, bool close)
    {
        await _process.StandardInput.WriteAsync(text);
        await _process.StandardInput.FlushAsync();
        if (close)
            _process.StandardInput.Close();
    }

    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }
}
