using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Embeddings.Tests.Support;

/// <summary>
/// Throw-away PostgreSQL 15 servers with pgvector on loopback, in a temp folder: initdb once, further data folders
/// copied from the first, pg_ctl start (as the <c>postgres</c> user when running as root, since PostgreSQL refuses
/// root). Small and unsafe on purpose (no fsync). pg_stat_statements is loaded so callers can count the rows each
/// server streams. Used by the PostgreSQL tests and the PostgreSQL benchmark.
/// </summary>
internal sealed class PostgresCluster : IDisposable
{
    private static readonly string BinDirectory =
        Environment.GetEnvironmentVariable("EMBEDDINGS_PG_BIN") is { Length: > 0 } bin ? bin : "/usr/lib/postgresql/15/bin";

    private static readonly Lazy<string?> Unavailable = new(FindProblem);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "emb-pg-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<(string DataDir, int Port)> _servers = [];

    /// <summary>Why PostgreSQL with pgvector cannot run here, or null when it can.</summary>
    public static string? UnavailableReason => Unavailable.Value;

    /// <summary>Starts <paramref name="servers"/> servers; <paramref name="settings"/> are extra <c>-c name=value</c> options.</summary>
    public static PostgresCluster Start(int servers, string settings = "")
    {
        if (UnavailableReason is { } reason)
        {
            throw new InvalidOperationException(reason);
        }
        var cluster = new PostgresCluster();
        try
        {
            cluster.StartServers(servers, settings);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    public int Port(int server) => _servers[server].Port;

    public string ConnectionString(int server, string database) =>
        $"Host=127.0.0.1;Port={Port(server)};Database={database};Username=postgres;Timeout=60;Command Timeout=900";

    private void StartServers(int count, string settings)
    {
        Directory.CreateDirectory(_root);
        if (RunningAsRoot && !OperatingSystem.IsWindows())
        {
            // The postgres user must be able to reach and own its folders.
            File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            Run("/bin/chown", "postgres", _root);
        }
        string first = Path.Combine(_root, "data0");
        RunAsPostgres(Path.Combine(BinDirectory, "initdb"), "-D", first, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions");
        // Copies of the first data folder are made before any server runs (a running one holds its pid file).
        for (int s = 1; s < count; s++)
        {
            RunAsPostgres("/bin/cp", "-a", first, Path.Combine(_root, "data" + s));
        }
        for (int s = 0; s < count; s++)
        {
            string dataDir = Path.Combine(_root, "data" + s);
            int port = FreePort();
            RunAsPostgres(Path.Combine(BinDirectory, "pg_ctl"), "start", "-w", "-t", "120", "-D", dataDir, "-l", dataDir + ".log", "-o",
                $"-p {port} -c listen_addresses=127.0.0.1 -k {_root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off " +
                "-c shared_buffers=32MB -c max_connections=60 -c max_worker_processes=4 -c max_parallel_workers=0 " +
                "-c max_parallel_maintenance_workers=0 -c max_parallel_workers_per_gather=0 -c shared_preload_libraries=pg_stat_statements " + settings);
            _servers.Add((dataDir, port));
        }
    }

    public void Dispose()
    {
        foreach ((string dataDir, _) in _servers)
        {
            try
            {
                RunAsPostgres(Path.Combine(BinDirectory, "pg_ctl"), "stop", "-m", "immediate", "-w", "-D", dataDir);
            }
            catch (InvalidOperationException)
            {
                // Already gone: nothing to stop.
            }
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static bool RunningAsRoot => Environment.UserName == "root";

    private static string? FindProblem()
    {
        foreach (string tool in new[] { "initdb", "pg_ctl", "pg_config" })
        {
            if (!File.Exists(Path.Combine(BinDirectory, tool)))
            {
                return $"PostgreSQL 15 is not installed ({Path.Combine(BinDirectory, tool)} missing)";
            }
        }
        string share = Capture(Path.Combine(BinDirectory, "pg_config"), "--sharedir").Trim();
        string lib = Capture(Path.Combine(BinDirectory, "pg_config"), "--pkglibdir").Trim();
        if (!File.Exists(Path.Combine(share, "extension", "vector.control")) || !File.Exists(Path.Combine(lib, "vector.so")))
        {
            return "pgvector is not installed in PostgreSQL 15";
        }
        if (!File.Exists(Path.Combine(lib, "postgres_fdw.so")) || !File.Exists(Path.Combine(lib, "pg_stat_statements.so")))
        {
            return "PostgreSQL 15's contrib modules (postgres_fdw, pg_stat_statements) are not installed";
        }
        if (RunningAsRoot && !File.Exists("/usr/sbin/runuser"))
        {
            return "running as root without runuser to start PostgreSQL as the postgres user";
        }
        return null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void RunAsPostgres(string program, params string[] args)
    {
        if (RunningAsRoot)
        {
            Run("/usr/sbin/runuser", ["-u", "postgres", "--", program, .. args]);
        }
        else
        {
            Run(program, args);
        }
    }

    private static void Run(string program, params string[] args)
    {
        (int exit, string output) = Execute(program, args);
        if (exit != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({exit}): {output}");
        }
    }

    private static string Capture(string program, params string[] args) => Execute(program, args).Output;

    private static (int Exit, string Output) Execute(string program, string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }
        using Process p = Process.Start(start)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
