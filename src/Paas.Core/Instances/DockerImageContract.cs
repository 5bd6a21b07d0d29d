namespace Paas.Core.Instances;

/// <summary>
/// How a release image built from a Dockerfile (or deployed as a prebuilt image) is run, carried in its own
/// labels so every cell that pulls it by digest starts it alike: its ENTRYPOINT/CMD for `web`, its USER (never
/// root unless allowed at build time, the platform's uid when it named none), and the port it listens on.
/// Buildpack images carry none of these labels and run as before.
/// </summary>
public static class DockerImageContract
{
    /// <summary>Set on images whose own ENTRYPOINT/CMD, USER and WORKDIR are the app's ("dockerfile" or "image").</summary>
    public const string BuilderLabel = "paas.builder";

    /// <summary>The TCP port the app listens on inside its container: the image's one EXPOSE, else $PORT.</summary>
    public const string PortLabel = "paas.port";

    /// <summary>$PORT inside every container unless the image EXPOSEs one port.</summary>
    public const int DefaultPort = 5000;
}
