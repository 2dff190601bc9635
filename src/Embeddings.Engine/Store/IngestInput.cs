using Embeddings.Corpus;

namespace Embeddings.Store;

/// <summary>
/// What an ingest reads: input files, or one stream named like a file (an HTTP upload). The name of each is what the
/// store records as the papers' dump and what error messages point at.
/// </summary>
internal sealed class IngestInput
{
    private readonly IReadOnlyList<string>? _files;
    private readonly BorrowedStream? _stream;
    private readonly string? _name;

    private IngestInput(IReadOnlyList<string>? files, BorrowedStream? stream, string? name)
    {
        _files = files;
        _stream = stream;
        _name = name;
    }

    /// <summary>Files in any format <see cref="PaperReader"/> knows, read one after the other.</summary>
    public static IngestInput FromFiles(IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return new IngestInput(files, null, null);
    }

    /// <summary>
    /// A stream read as if it were the file <paramref name="name"/> (its extension picks the format); the caller keeps
    /// it (it is not disposed).
    /// </summary>
    public static IngestInput FromStream(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new IngestInput(null, new BorrowedStream(stream), name);
    }

    /// <summary>Fails on a missing file, a directory or an unknown format before any work is done.</summary>
    public void Check()
    {
        if (_files is null)
        {
            PaperReader.DetectFormat(_name!);
            return;
        }
        InputFiles.Check(_files);
    }

    /// <summary>Whether <paramref name="error"/> is the caller's stream failing (not the library's to translate).</summary>
    public bool IsSourceFailure(Exception error) => _stream?.Failure is { } failure && ReferenceEquals(failure, error);

    /// <summary>The papers of the input, in order.</summary>
    public IAsyncEnumerable<SourcedPaper> ReadAsync(PaperReaderOptions options, CancellationToken cancellationToken) =>
        _files is not null
            ? PaperReader.ReadAllAsync(_files, options, cancellationToken)
            : PaperReader.ReadAsync(_stream!, _name!, options, cancellationToken);
}
