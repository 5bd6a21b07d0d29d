using System.Diagnostics;
using System.Text;

namespace Paas.Controller.Git;

/// <summary>
/// Serves git's smart HTTP protocol by running `git http-backend` as a CGI program. The response body is
/// flushed chunk by chunk, because the pre-receive hook's deploy output travels in it and the pusher
/// should see the build live.
/// </summary>
public sealed class GitHttpBackend(GitRepositories repositories, ILogger<GitHttpBackend> logger)
{
    public async Task ServeAsync(HttpContext context, string app, string pathInRepository, string user, IReadOnlyDictionary<string, string> hookEnvironment)
    {
        var request = context.Request;
        var start = new ProcessStartInfo("git", "http-backend")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The CGI child sees only what it needs: nothing of the controller's own environment leaks into hooks.
        start.Environment.Clear();
        start.Environment["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        start.Environment["HOME"] = repositories.Root;
        start.Environment["GIT_PROJECT_ROOT"] = repositories.Root;
        start.Environment["GIT_HTTP_EXPORT_ALL"] = "1";
        start.Environment["GATEWAY_INTERFACE"] = "CGI/1.1";
        start.Environment["PATH_INFO"] = $"/{app}.git/{pathInRepository}";
        start.Environment["REQUEST_METHOD"] = request.Method;
        start.Environment["QUERY_STRING"] = request.QueryString.HasValue ? request.QueryString.Value![1..] : "";
        start.Environment["CONTENT_TYPE"] = request.ContentType ?? "";
        start.Environment["REMOTE_USER"] = user;
        start.Environment["REMOTE_ADDR"] = context.Connection.RemoteIpAddress?.ToString() ?? "";
        // CONTENT_LENGTH stays unset: git sends chunked bodies, and http-backend then reads to end of input.
        if (request.Headers.ContentEncoding.Count > 0)
            start.Environment["HTTP_CONTENT_ENCODING"] = request.Headers.ContentEncoding.ToString();
        if (request.Headers.TryGetValue("Git-Protocol", out var protocol))
            start.Environment["GIT_PROTOCOL"] = protocol.ToString();
        foreach (var (name, value) in hookEnvironment)
            start.Environment[name] = value;

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start git http-backend.");
        var errors = process.StandardError.ReadToEndAsync(context.RequestAborted);
        var feeding = FeedRequestAsync(request.Body, process.StandardInput.BaseStream, context.RequestAborted);
        try
        {
            await RelayResponseAsync(process.StandardOutput.BaseStream, context.Response, context.RequestAborted);
            await feeding;
            await process.WaitForExitAsync(context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            throw;
        }
        var stderr = await errors;
        if (process.ExitCode != 0 || stderr.Length > 0)
            logger.LogWarning("git http-backend for {App} exited {Code}: {Errors}", app, process.ExitCode, stderr.Trim());
    }

    private static async Task FeedRequestAsync(Stream body, Stream stdin, CancellationToken cancellationToken)
    {
        try
        {
            await body.CopyToAsync(stdin, cancellationToken);
        }
        finally
        {
            await stdin.DisposeAsync();
        }
    }

    private static async Task RelayResponseAsync(Stream stdout, HttpResponse response, CancellationToken cancellationToken)
    {
        var buffer = new byte[16384];
        var header = new MemoryStream();
        var bodyStart = -1;
        int read;
        // CGI output is headers, a blank line, then the body.
        while (bodyStart < 0 && (read = await stdout.ReadAsync(buffer, cancellationToken)) > 0)
        {
            header.Write(buffer, 0, read);
            bodyStart = FindBodyStart(header.GetBuffer(), (int)header.Length, out var headerLength);
            if (bodyStart >= 0)
            {
                ApplyHeaders(Encoding.ASCII.GetString(header.GetBuffer(), 0, headerLength), response);
                var rest = (int)header.Length - bodyStart;
                if (rest > 0)
                    await response.Body.WriteAsync(header.GetBuffer().AsMemory(bodyStart, rest), cancellationToken);
                await response.Body.FlushAsync(cancellationToken);
            }
        }
        if (bodyStart < 0)
        {
            response.StatusCode = StatusCodes.Status502BadGateway;
            return;
        }
        while ((read = await stdout.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
        }
    }

    private static int FindBodyStart(byte[] data, int length, out int headerLength)
    {
        for (var i = 0; i < length - 1; i++)
        {
            if (data[i] == '\n' && data[i + 1] == '\n')
            {
                headerLength = i;
                return i + 2;
            }
            if (i < length - 3 && data[i] == '\r' && data[i + 1] == '\n' && data[i + 2] == '\r' && data[i + 3] == '\n')
            {
                headerLength = i;
                return i + 4;
            }
        }
        headerLength = 0;
        return -1;
    }

    private static void ApplyHeaders(string headers, HttpResponse response)
    {
        foreach (var line in headers.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0)
                continue;
            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                if (int.TryParse(value.Split(' ')[0], out var status))
                    response.StatusCode = status;
            }
            else
            {
                response.Headers.Append(name, value);
            }
        }
    }
}
