namespace Embeddings.IO;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new one, never a torn
/// mix: the bytes go to a temporary file beside the target, are flushed to disk, and the temporary
/// file is renamed over the target (rename is atomic on POSIX file systems).
/// </summary>
internal static class AtomicFile
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
        using PendingFile pending = Begin(path);
        write(pending.Stream);
        pending.Publish(beforeRename);
    }

    /// <summary>
    /// Starts a file that is published later: the bytes go to <see cref="PendingFile.Stream"/> (a temporary file
    /// beside the target) until <see cref="PendingFile.Publish"/>; disposing it unpublished deletes the temporary file,
    /// so an interrupted writer never leaves a torn file under the target name.
    /// </summary>
    public static PendingFile Begin(string path) => new(path);

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

    internal static void TryDelete(string path)
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

/// <summary>A file being written beside its target, published atomically by rename (see <see cref="AtomicFile.Begin"/>).</summary>
internal sealed class PendingFile : IDisposable
{
    private readonly string _target;
    private readonly string _temp;
    private bool _published;

    internal PendingFile(string path)
    {
        _target = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(_target)!;
        Directory.CreateDirectory(dir);
        _temp = Path.Combine(dir, $".{Path.GetFileName(_target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        Stream = new FileStream(_temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
    }

    /// <summary>The temporary file (seekable).</summary>
    public FileStream Stream { get; }

    /// <summary>
    /// Flushes the temporary file to disk and renames it over the target; <paramref name="beforeRename"/> runs just
    /// before the rename (crash-injection tests use it).
    /// </summary>
    public void Publish(Action? beforeRename = null)
    {
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        beforeRename?.Invoke();
        File.Move(_temp, _target, overwrite: true);
        _published = true;
        AtomicFile.FlushDirectory(Path.GetDirectoryName(_target)!);
    }

    /// <summary>Deletes the temporary file unless it was published.</summary>
    public void Dispose()
    {
        if (_published)
        {
            return;
        }
        Stream.Dispose();
        AtomicFile.TryDelete(_temp);
    }
}
