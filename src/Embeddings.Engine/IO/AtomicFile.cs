namespace Embeddings.IO;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new one, never a torn
/// mix: the bytes go to a temporary file beside the target, are flushed to disk, and the temporary
/// file is renamed over the target (rename is atomic on POSIX file systems).
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes the file through <paramref name="write"/> and publishes it atomically.</summary>
    public static void Write(string path, Action<Stream> write) => Write(path, write, beforeRename: null);

    /// <summary>
    /// Writes the file through <paramref name="write"/> and publishes it atomically; <paramref name="beforeRename"/>
    /// runs once the temporary file is complete and flushed, just before the rename (crash-injection tests use it).
    /// </summary>
    public static void Write(string path, Action<Stream> write, Action? beforeRename)
    {
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            beforeRename?.Invoke();
            File.Move(temp, full, overwrite: true);
            FlushDirectory(dir);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes all bytes atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>Writes UTF-8 text atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Makes a rename durable: on Linux the directory entry itself must be flushed, otherwise a power
    /// loss can forget the rename even though the data blocks were written.
    /// </summary>
    public static void FlushDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        try
        {
            using var handle = File.OpenHandle(dir, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.None);
            RandomAccess.FlushToDisk(handle);
        }
        catch (UnauthorizedAccessException)
        {
            // Some file systems refuse to open directories; the rename is still atomic, only less durable.
        }
        catch (IOException)
        {
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
