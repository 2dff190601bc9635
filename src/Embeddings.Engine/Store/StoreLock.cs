using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Embeddings.IO;

namespace Embeddings.Store;

/// <summary>
/// The single-writer lock: <c>writer.lock</c> held open with an exclusive OS lock (flock on Linux, released by the kernel
/// when the holder dies, so a lock left by a killed writer never blocks), and <c>writer.json</c> naming the holder
/// (PID, host, start time) for the message a second writer gets.
/// </summary>
internal sealed class StoreLock : IDisposable
{
    public const string LockFileName = "writer.lock";
    public const string InfoFileName = "writer.json";

    private readonly FileStream _lock;
    private readonly string _infoPath;

    private StoreLock(FileStream lockStream, string infoPath, string? tookOverFrom)
    {
        _lock = lockStream;
        _infoPath = infoPath;
        TookOverFrom = tookOverFrom;
    }

    /// <summary>The holder described by a stale <c>writer.json</c> this lock replaced (its process was gone), or null.</summary>
    public string? TookOverFrom { get; }

    public static StoreLock Acquire(string dir)
    {
        string lockPath = Path.Combine(dir, LockFileName);
        string infoPath = Path.Combine(dir, InfoFileName);
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            string holder = DescribeHolder(infoPath) ?? "another process (no writer.json)";
            throw new StoreLockedException(
                $"{dir}: the store is being written by {holder}. Only one writer at a time: wait for it to finish, or stop that process; readers can open the store meanwhile.");
        }
        string? previous = DescribeHolder(infoPath);
        string? tookOver = previous is not null ? previous + " (no longer running)" : null;
        try
        {
            var info = new Dictionary<string, object>
            {
                ["pid"] = Environment.ProcessId,
                ["host"] = Environment.MachineName,
                ["started"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
                ["command"] = Environment.CommandLine,
            };
            AtomicFile.WriteAllText(infoPath, JsonSerializer.Serialize(info));
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return new StoreLock(stream, infoPath, tookOver);
    }

    private static string? DescribeHolder(string infoPath)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(infoPath));
            JsonElement r = doc.RootElement;
            int pid = r.GetProperty("pid").GetInt32();
            string host = r.GetProperty("host").GetString() ?? "?";
            string started = r.GetProperty("started").GetString() ?? "?";
            bool alive = host == Environment.MachineName && IsAlive(pid);
            return $"PID {pid} on {host} since {started}" + (host == Environment.MachineName && !alive ? " [process not found]" : "");
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        try
        {
            File.Delete(_infoPath);
        }
        catch (IOException)
        {
        }
        _lock.Dispose();
    }
}
