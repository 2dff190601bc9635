using Embeddings.IO;
using Embeddings.Store;

namespace Embeddings;

/// <summary>
/// An output file a host writes for its user (<c>-o FILE</c>), with the library's guarantees: the file appears complete
/// or not at all (the bytes go to a temporary file beside it, renamed over it by <see cref="Commit"/>); a symbolic link
/// is followed (the file it names is replaced, the link stays); a named pipe or a character device (<c>/dev/stdout</c>)
/// is written through instead of being replaced by a regular file; a directory, a block device or a socket is refused;
/// and no output ever lands inside a store folder. Disposing it uncommitted leaves the target as it was.
/// </summary>
public sealed class OutputFile : IDisposable
{
    private readonly PendingFile _file;

    private OutputFile(PendingFile file)
    {
        _file = file;
    }

    /// <summary>Where to write (a seekable temporary file until <see cref="Commit"/>).</summary>
    public Stream Stream => _file.Stream;

    /// <summary>Starts an output at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidRequestException">The path is a directory, a block device, a socket, or inside a store folder.</exception>
    public static OutputFile Create(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return LibraryErrors.Guard(() =>
        {
            PendingFile file = Begin(path);
            return new OutputFile(file);
        });
    }

    /// <summary>Publishes the output under its name (or writes it through to the pipe or device).</summary>
    public void Commit() => LibraryErrors.Guard(() =>
    {
        _file.Publish();
        return true;
    });

    /// <summary>Throws the temporary file away unless committed.</summary>
    public void Dispose() => _file.Dispose();

    /// <summary>The one entry for user-named outputs inside the library: the store-folder rule, then <see cref="AtomicFile.BeginOutput"/>.</summary>
    internal static PendingFile Begin(string path)
    {
        CheckNotInStore(path);
        return AtomicFile.BeginOutput(path);
    }

    /// <summary>
    /// Refuses a path inside a store folder (the folder itself, its <c>indexes/</c>, or deeper): a store holds only what
    /// the store writes, so an output can never replace a segment, the manifest or an index.
    /// </summary>
    internal static void CheckNotInStore(string path)
    {
        string full = AtomicFile.FinalTarget(Path.GetFullPath(path));
        for (string? dir = Path.GetDirectoryName(full); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (PaperStore.HasStoreFiles(dir))
            {
                throw new InvalidRequestException($"the output '{path}' is inside the store folder '{dir}'; a store holds only what embeddings writes there: write the output elsewhere.");
            }
        }
    }
}
