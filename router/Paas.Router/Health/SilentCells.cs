using System.Net.Sockets;
using Paas.Router.Table;

namespace Paas.Router.Health;

/// <summary>Whether an instance accepts connections: the router's only way to verify a backend on its own.</summary>
public interface IEndpointProbe
{
    Task<bool> AnswersAsync(string address, CancellationToken cancellationToken);
}

/// <summary>A TCP connect, bounded by a timeout: a lost host's addresses time out rather than refuse.</summary>
public sealed class TcpConnectProbe(TimeSpan timeout) : IEndpointProbe
{
    public async Task<bool> AnswersAsync(string address, CancellationToken cancellationToken)
    {
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), out var port))
            return false;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(address[..colon].Trim('[', ']'), port, bounded.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}

/// <summary>
/// A cell whose heartbeat key has expired is silent, which is not the same as gone: its agent may have
/// crashed (and be coming back) while its instances serve on. Like gorouter with backends it can verify,
/// the router keeps a silent cell's endpoints while any of them accepts a connection, and declares the
/// cell dead only when none does (a lost host, a stopped engine). A single endpoint that stops answering
/// on a cell kept this way leaves the pool on its first failed connect (<see cref="PassiveHealth"/>; the
/// request is retried elsewhere, as no byte of it was sent).
/// </summary>
public sealed class SilentCells(IEndpointProbe probe, ILogger<SilentCells> logger)
{
    private readonly HashSet<string> _keptLastTime = new(StringComparer.Ordinal);

    /// <summary>Of the silent cells, those whose endpoints in <paramref name="table"/> all fail to answer.</summary>
    public async Task<HashSet<string>> DeadAmongAsync(IReadOnlyCollection<string> silent, RouteTable table, CancellationToken cancellationToken)
    {
        var dead = new HashSet<string>(StringComparer.Ordinal);
        if (silent.Count == 0)
        {
            _keptLastTime.Clear();
            return dead;
        }

        var endpoints = table.Instances.Values
            .Where(d => d.Config.Cell is { } cell && silent.Contains(cell))
            .GroupBy(d => d.Config.Cell!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(d => d.Address).Distinct().ToArray(), StringComparer.Ordinal);
        var verdicts = await Task.WhenAll(silent.Select(async cell =>
        {
            var addresses = endpoints.GetValueOrDefault(cell) ?? [];
            var answers = await Task.WhenAll(addresses.Select(a => probe.AnswersAsync(a, cancellationToken)));
            return (Cell: cell, Answering: answers.Count(a => a), Total: addresses.Length);
        }));
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (cell, answering, total) in verdicts)
        {
            if (answering == 0)
            {
                dead.Add(cell);
                continue;
            }

            kept.Add(cell);
            if (!_keptLastTime.Contains(cell))
                logger.LogWarning("Cell {Cell} stopped its heartbeats, but {Answering} of its {Total} endpoints answer: keeping them in rotation", cell, answering, total);
        }

        _keptLastTime.Clear();
        _keptLastTime.UnionWith(kept);
        return dead;
    }
}
