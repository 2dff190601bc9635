using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Embeddings.Tests.Postgres;

/// <summary>
/// Two throw-away PostgreSQL 15 servers with pgvector on loopback, started once per test run for the whole
/// "postgres" collection (initdb once, the second data folder copied from the first, pg_ctl start; run as the
/// <c>postgres</c> user when the tests run as root, since PostgreSQL refuses root). Small on purpose: 32 MB shared
/// buffers, no fsync. pg_stat_statements is loaded so tests can count the rows each shard streams. Each test makes
/// its own databases. Where PostgreSQL or pgvector is missing, the tests are skipped with <see cref="UnavailableReason"/>.
/// </summary>
public sealed class PostgresServers : IAsyncLifetime
{
    private static readonly string BinDirectory =
        Environment.GetEnvironmentVariable("EMBEDDINGS_PG_BIN") is { Length: > 0 } bin ? bin : "/usr/lib/postgresql/15/bin";

    private static readonly Lazy<string?> Unavailable = new(FindProblem);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "emb-pg-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<(string DataDir, int Port)> _servers = [];
    private int _databases;

    /// <summary>Why the PostgreSQL tests cannot run here, or null when they can.</summary>
    public static string? UnavailableReason => Unavailable.Value;

    /// <summary>Port of server 0 (coordinator, single node, shard 0) and server 1 (shard 1).</summary>
    public int Port(int server) => _servers[server].Port;

    public async Task InitializeAsync()
    {
        if (UnavailableReason is not null)
        {
            return;
        }
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
        string second = Path.Combine(_root, "data1");
        RunAsPostgres("/bin/cp", "-a", first, second);
        foreach (string dataDir in new[] { first, second })
        {
            int port = FreePort();
            RunAsPostgres(Path.Combine(BinDirectory, "pg_ctl"), "start", "-w", "-t", "120", "-D", dataDir, "-l", dataDir + ".log", "-o",
                $"-p {port} -c listen_addresses=127.0.0.1 -k {_root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off " +
                "-c shared_buffers=32MB -c max_connections=60 -c max_worker_processes=4 -c max_parallel_workers=0 " +
                "-c max_parallel_maintenance_workers=0 -c max_parallel_workers_per_gather=0 -c shared_preload_libraries=pg_stat_statements");
            _servers.Add((dataDir, port));
        }
        for (int s = 0; s < _servers.Count; s++)
        {
            await using var connection = new NpgsqlConnection(ConnectionString(s, "postgres"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    public Task DisposeAsync()
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
        return Task.CompletedTask;
    }

    public string ConnectionString(int server, string database) =>
        $"Host=127.0.0.1;Port={Port(server)};Database={database};Username=postgres;Timeout=60;Command Timeout=300";

    /// <summary>A new empty database on <paramref name="server"/>; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(int server, string prefix)
    {
        string name = $"{prefix}_{Interlocked.Increment(ref _databases)}";
        await using var connection = new NpgsqlConnection(ConnectionString(server, "postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(server, name);
    }

    /// <summary>Rows returned by FETCH statements on <paramref name="server"/> since the last reset: what postgres_fdw cursors streamed.</summary>
    public async Task<long> FetchedRowsAsync(int server)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(server, "postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT coalesce(sum(rows), 0)::bigint FROM pg_stat_statements WHERE query LIKE 'FETCH %'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task ResetStatementStatisticsAsync()
    {
        for (int s = 0; s < _servers.Count; s++)
        {
            await using var connection = new NpgsqlConnection(ConnectionString(s, "postgres"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT pg_stat_statements_reset()", connection);
            await command.ExecuteNonQueryAsync();
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

/// <summary>The tests that need <see cref="PostgresServers"/>: one collection, so the servers start once and tests run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServers>
{
    public const string Name = "postgres";
}

/// <summary>A fact that is skipped, saying why, where PostgreSQL with pgvector cannot run.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresServers.UnavailableReason is { } reason)
        {
            Skip = $"PostgreSQL tests skipped: {reason}; scripts/setup-postgres.sh installs PostgreSQL 15 and pgvector.";
        }
    }
}
