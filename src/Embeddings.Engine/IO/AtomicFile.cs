using System.Runtime.InteropServices;

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

    /// <summary>
    /// Starts a user-named output file (<c>-o</c>): like <see cref="Begin"/> for a regular file or a new name, except
    /// that a symbolic link is followed (the file it points to is replaced, the link stays), a FIFO or a character
    /// device (<c>/dev/stdout</c>, a pipe) is written through once the output is complete instead of being replaced by
    /// a regular file, and a directory, a block device or a socket is refused with <see cref="InvalidRequestException"/>.
    /// </summary>
    public static PendingFile BeginOutput(string path)
    {
        string full = Path.GetFullPath(path);
        switch (FileKinds.Of(full))
        {
            case FileKind.Directory:
                throw new InvalidRequestException($"the output '{path}' is a directory; give a file name (for example {Path.Combine(path, "out")}).");
            case FileKind.BlockDevice or FileKind.Socket:
                throw new InvalidRequestException($"the output '{path}' is a {(FileKinds.Of(full) == FileKind.Socket ? "socket" : "block device")}; refusing to write over it: give a regular file.");
            case FileKind.Fifo or FileKind.CharacterDevice:
                return new PendingFile(full, writeThrough: true);
            default:
                return new PendingFile(FinalTarget(full), writeThrough: false);
        }
    }

    /// <summary>
    /// The file a path ends at once symbolic links are followed (the path itself when it is no link, or names nothing
    /// yet: a new output). A dangling link gives its target, which the output then creates.
    /// </summary>
    public static string FinalTarget(string fullPath)
    {
        try
        {
            return new FileInfo(fullPath).LinkTarget is null
                ? fullPath
                : File.ResolveLinkTarget(fullPath, returnFinalTarget: true)?.FullName ?? fullPath;
        }
        catch (FileNotFoundException)
        {
            return fullPath;
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
    private readonly bool _writeThrough;
    private bool _published;

    internal PendingFile(string path, bool writeThrough = false)
    {
        _target = Path.GetFullPath(path);
        _writeThrough = writeThrough;
        if (writeThrough)
        {
            // A pipe or a device cannot be replaced, and a reader must not see half an output: the bytes wait in a
            // temporary file (seekable, as the container formats need) and are copied through once complete.
            _temp = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $".embeddings-output.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        }
        else
        {
            string dir = Path.GetDirectoryName(_target)!;
            Directory.CreateDirectory(dir);
            RemoveStaleTemporaries(dir, Path.GetFileName(_target));
            _temp = Path.Combine(dir, $".{Path.GetFileName(_target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        }
        Stream = new FileStream(_temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
    }

    /// <summary>The temporary file (seekable).</summary>
    public FileStream Stream { get; }

    /// <summary>The file the output lands in (a symbolic link's final target; the pipe or device written through).</summary>
    public string Target => _target;

    /// <summary>
    /// Flushes the temporary file to disk and renames it over the target; <paramref name="beforeRename"/> runs just
    /// before the rename (crash-injection tests use it). A pipe or device target gets the bytes copied into it instead.
    /// </summary>
    public void Publish(Action? beforeRename = null)
    {
        if (_writeThrough)
        {
            Stream.Flush();
            Stream.Position = 0;
            using (var target = new FileStream(_target, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 16))
            {
                Stream.CopyTo(target);
            }
            Stream.Dispose();
            AtomicFile.TryDelete(_temp);
            _published = true;
            return;
        }
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        beforeRename?.Invoke();
        File.Move(_temp, _target, overwrite: true);
        _published = true;
        AtomicFile.FlushDirectory(Path.GetDirectoryName(_target)!);
    }

    /// <summary>Deletes the temporary file unless it was published (also when closing it fails, as on a full disk).</summary>
    public void Dispose()
    {
        if (_published)
        {
            return;
        }
        try
        {
            Stream.Dispose();
        }
        catch (IOException)
        {
            // Flushing buffered bytes onto a full disk fails; the file is being thrown away anyway.
        }
        finally
        {
            AtomicFile.TryDelete(_temp);
        }
    }

    /// <summary>
    /// Deletes what writers of the same target that were killed before they could clean up (SIGKILL, power loss) left:
    /// <c>.NAME.PID.GUID.tmp</c> files whose process no longer runs.
    /// </summary>
    private static void RemoveStaleTemporaries(string dir, string name)
    {
        try
        {
            foreach (string path in Directory.EnumerateFiles(dir, $".{name}.*.tmp"))
            {
                string middle = Path.GetFileName(path)[(name.Length + 2)..^4];
                int dot = middle.IndexOf('.', StringComparison.Ordinal);
                if (dot > 0 && int.TryParse(middle.AsSpan(0, dot), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)
                    && !IsRunning(pid))
                {
                    AtomicFile.TryDelete(path);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Cleaning up is a courtesy; the write itself goes on.
        }
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return true;
        }
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
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
}

/// <summary>What a path names, as <see cref="FileKinds.Of"/> tells.</summary>
internal enum FileKind
{
    /// <summary>Nothing (or a dangling link).</summary>
    Missing,

    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A named pipe.</summary>
    Fifo,

    /// <summary>A character device (<c>/dev/null</c>, a terminal).</summary>
    CharacterDevice,

    /// <summary>A block device (a disk).</summary>
    BlockDevice,

    /// <summary>A Unix socket.</summary>
    Socket,
}

/// <summary>The file type behind a path (links followed), which .NET does not tell apart from a regular file.</summary>
internal static unsafe partial class FileKinds
{
    private const int AtFdCwd = -100;
    private const uint StatxType = 1;

    /// <summary>The kind of file <paramref name="path"/> names, following symbolic links.</summary>
    public static FileKind Of(string path)
    {
        if (Directory.Exists(path))
        {
            return FileKind.Directory;
        }
        if (OperatingSystem.IsLinux())
        {
            // struct statx: stx_mode (u16) at byte 28, the same on every architecture.
            byte* buffer = stackalloc byte[256];
            try
            {
                if (Statx(AtFdCwd, path, 0, StatxType, buffer) == 0)
                {
                    return (*(ushort*)(buffer + 28) & 0xF000) switch
                    {
                        0x1000 => FileKind.Fifo,
                        0x2000 => FileKind.CharacterDevice,
                        0x4000 => FileKind.Directory,
                        0x6000 => FileKind.BlockDevice,
                        0xC000 => FileKind.Socket,
                        _ => FileKind.Regular,
                    };
                }
                return File.Exists(path) ? FileKind.Regular : FileKind.Missing;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // An old C library without statx: fall through to what .NET can tell.
            }
        }
        return File.Exists(path) ? FileKind.Regular : FileKind.Missing;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
