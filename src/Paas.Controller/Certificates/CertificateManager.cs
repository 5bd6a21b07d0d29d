using Paas.Controller.State;
using Paas.Core.Configuration;
using Paas.Core.Tls;

namespace Paas.Controller.Certificates;

/// <summary>
/// Automatic certificates, on the leader only: every pass (<c>PAAS_CONVERGE_SECONDS</c>, or at once when woken)
/// orders a certificate for each domain of each app with <c>certs:auto:enable</c> that has none from the directory,
/// or whose certificate expires within <see cref="RenewalPolicy.RenewBefore"/>. A failure is recorded as one sentence
/// (in <c>paas certs</c> and the app's events) and retried with backoff; the certificate being served, if any, stays.
/// A certificate the user installed (<c>certs:add</c>) is never replaced.
/// </summary>
public sealed class CertificateManager(
    ICertificateIssuer issuer,
    TlsPublisher publisher,
    IStateStore database,
    IDomainStore domains,
    PaasSettings settings,
    TimeProvider time,
    ILogger<CertificateManager> logger) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0);
    private long _issued;
    private long _failed;

    /// <summary>Certificates obtained (first issue or renewal) since this controller started, for /metrics.</summary>
    public long Issued => Interlocked.Read(ref _issued);

    /// <summary>Orders that failed since this controller started, for /metrics.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Asks for a pass as soon as possible (a user just enabled automatic certificates).</summary>
    public void Wake() => _wake.Release();

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await PassAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning("Certificate pass failed: {Error}", ex.Message);
            }
            try
            {
                using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stop);
                await Task.WhenAny(_wake.WaitAsync(waiting.Token), Task.Delay(settings.ConvergeInterval, time, waiting.Token));
                await waiting.CancelAsync();
                stop.ThrowIfCancellationRequested();
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass over every app with automatic certificates; public so tests drive it with their own clock.</summary>
    public async Task PassAsync(CancellationToken stop)
    {
        foreach (var app in await publisher.AutoAppsAsync())
        {
            if (database.FindApp(app) is null)
            {
                await publisher.SetAutoAsync(app, false);
                continue;
            }
            foreach (var domain in domains.ListForApp(app))
                await RenewIfDueAsync(app, domain.Hostname, stop);
        }
    }

    private async Task RenewIfDueAsync(string app, string hostname, CancellationToken stop)
    {
        var current = await publisher.FindAsync(hostname);
        if (current?.Source == PublishedCertificate.User)
            return;
        var status = await publisher.StatusAsync(hostname);
        var now = time.GetUtcNow();
        if (hostname.StartsWith(Paas.Core.Domains.DomainName.WildcardPrefix, StringComparison.Ordinal))
        {
            if (status?.State != CertificateStatus.Failed)
                await publisher.SetStatusAsync(hostname, new CertificateStatus(CertificateStatus.Failed,
                    $"{hostname} is a wildcard, which HTTP-01 cannot prove; install a certificate with paas certs:add.", 0, null, now));
            return;
        }
        if (!RenewalPolicy.IsDue(now, current?.NotAfter, status?.NextAttempt))
            return;

        var attempts = status?.State == CertificateStatus.Failed ? status.Attempts : 0;
        await publisher.SetStatusAsync(hostname, new CertificateStatus(CertificateStatus.Pending, null, attempts, null, now));
        try
        {
            var issued = await issuer.IssueAsync(hostname, stop);
            await publisher.PublishAsync(hostname, app, issued.ChainPem, issued.KeyPem, PublishedCertificate.Acme, issued.NotAfter);
            await publisher.SetStatusAsync(hostname, new CertificateStatus(CertificateStatus.Issued, null, 0, null, time.GetUtcNow()));
            Interlocked.Increment(ref _issued);
            database.AddEvent(app, "platform", "certificate",
                $"{(current is null ? "Issued" : "Renewed")} the certificate for {hostname}, valid until {issued.NotAfter:yyyy-MM-dd}");
        }
        catch (AcmeException ex)
        {
            Interlocked.Increment(ref _failed);
            var failures = attempts + 1;
            var next = time.GetUtcNow() + RenewalPolicy.Backoff(failures);
            await publisher.SetStatusAsync(hostname, new CertificateStatus(CertificateStatus.Failed, ex.Message, failures, next, time.GetUtcNow()));
            database.AddEvent(app, "platform", "certificate", $"No certificate for {hostname}: {ex.Message}");
            logger.LogWarning("No certificate for {Hostname} (attempt {Attempt}, next at {Next:O}): {Error}", hostname, failures, next, ex.Message);
        }
    }
}
