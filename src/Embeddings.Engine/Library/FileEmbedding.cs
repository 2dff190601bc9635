using System.Diagnostics;
using Embeddings.Corpus;
using Embeddings.Encoding;

namespace Embeddings;

/// <summary>Output format of <see cref="EmbeddingModel.EmbedFilesAsync"/> (<c>embeddings embed</c>).</summary>
public enum EmbeddingFileFormat
{
    /// <summary>One JSON object per line: <c>{"id": ..., "vector": [...], "truncated": bool}</c>.</summary>
    Jsonl,

    /// <summary>The checksummed binary format of docs/formats.md, with the model fingerprint.</summary>
    Bin,
}

/// <summary>Settings of <see cref="EmbeddingModel.EmbedFilesAsync"/>.</summary>
public sealed record EmbedOptions
{
    /// <summary>The output file (written to a temporary file beside it and renamed at the end). Null when <see cref="OutputStream"/> is set.</summary>
    public string? OutputPath { get; init; }

    /// <summary>Where to write instead of a file (stdout, an HTTP response); the output is copied there once complete.</summary>
    public Stream? OutputStream { get; init; }

    /// <summary>The format. Default: <see cref="EmbeddingFileFormat.Bin"/> when <see cref="OutputPath"/> ends in <c>.bin</c>, else JSONL.</summary>
    public EmbeddingFileFormat? Format { get; init; }

    /// <summary>Bad input records are reported (<see cref="OnIssue"/>, counted) and skipped instead of stopping the run.</summary>
    public bool SkipBad { get; init; }

    /// <summary>Called for every record skipped and every field capped, as it is met.</summary>
    public Action<PaperReadIssue>? OnIssue { get; init; }

    /// <summary>Receives progress ("embedding", papers written).</summary>
    public IProgress<WorkProgress>? Progress { get; init; }

    internal EmbeddingFileFormat ResolvedFormat =>
        Format ?? (OutputPath?.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) == true ? EmbeddingFileFormat.Bin : EmbeddingFileFormat.Jsonl);
}

/// <summary>What <see cref="EmbeddingModel.EmbedFilesAsync"/> did.</summary>
/// <param name="Embedded">Papers written (each id once).</param>
/// <param name="Truncated">Papers whose text did not fully reach the model.</param>
/// <param name="Empty">Papers with an empty text (zero vector).</param>
/// <param name="Skipped">Bad records left out (with <see cref="EmbedOptions.SkipBad"/>).</param>
/// <param name="RepeatedIds">Records left out because their id was already embedded.</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="Format">The format written.</param>
/// <param name="Dimension">Vector length.</param>
/// <param name="Fingerprint">The model fingerprint (also in the <c>.bin</c> header).</param>
/// <param name="Provider">Where the model ran (<c>cpu</c>, <c>cuda</c>).</param>
public sealed record EmbedSummary(long Embedded, long Truncated, long Empty, long Skipped, long RepeatedIds, double Seconds,
    EmbeddingFileFormat Format, int Dimension, string Fingerprint, string Provider)
{
    /// <summary>Papers embedded per second.</summary>
    public double PapersPerSecond => Seconds > 0 ? Embedded / Seconds : 0;
}

/// <summary>The encode loop of <see cref="EmbeddingModel.EmbedFilesAsync"/>: read, deduplicate ids, encode in chunks, write.</summary>
internal static class FileEmbedding
{
    /// <summary>Papers encoded per call: large enough for full batches over all cores, small enough to stream.</summary>
    private const int ChunkSize = 512;

    public static async Task<EmbedSummary> RunAsync(EmbeddingModel model, ISentenceEncoder encoder, IReadOnlyList<string> files,
        EmbedOptions options, CancellationToken cancellationToken)
    {
        if ((options.OutputPath is null) == (options.OutputStream is null))
        {
            throw new InvalidRequestException("Give the embeddings output as a file path or as a stream (exactly one of them).");
        }
        InputFiles.Check(files); // a missing file, a directory or an unknown extension fails before any work
        if (options.OutputPath is { } output)
        {
            OutputFile.CheckNotInStore(output);
            string target = Path.GetFullPath(output);
            foreach (string file in files)
            {
                if (string.Equals(Path.GetFullPath(file), target, StringComparison.Ordinal))
                {
                    throw new InvalidRequestException($"the output '{output}' is also an input; the input would be replaced: write the vectors to another file.");
                }
            }
        }
        EmbeddingFileFormat format = options.ResolvedFormat;
        return await StreamOutput.WriteAsync(options.OutputPath, options.OutputStream, async path =>
        {
            long skipped = 0;
            var readerOptions = new PaperReaderOptions
            {
                SkipBad = options.SkipBad,
                OnIssue = issue =>
                {
                    skipped += issue.Kind == PaperIssueKind.Skipped ? 1 : 0;
                    options.OnIssue?.Invoke(issue);
                },
            };
            var clock = Stopwatch.StartNew();
            long truncated = 0, empty = 0, duplicates = 0;
            using IEmbeddingWriter writer = EmbeddingWriter.Create(format, path, encoder.Dimension, encoder.Fingerprint);
            var chunk = new List<Paper>(ChunkSize);
            var texts = new List<string>(ChunkSize);
            // The same paper is often listed on several daily pages: each id is embedded once (the first record wins).
            var seenIds = new HashSet<string>(StringComparer.Ordinal);
            async Task FlushAsync()
            {
                texts.Clear();
                foreach (Paper paper in chunk)
                {
                    texts.Add(paper.EmbeddingText);
                }
                EmbeddingBatch batch = await encoder.EncodeAsync(texts, cancellationToken).ConfigureAwait(false);
                for (int i = 0; i < chunk.Count; i++)
                {
                    writer.Write(chunk[i].Id, batch[i], batch.Truncated[i], batch.IsEmpty[i]);
                    truncated += batch.Truncated[i] ? 1 : 0;
                    empty += batch.IsEmpty[i] ? 1 : 0;
                }
                chunk.Clear();
            }
            await foreach (SourcedPaper sourced in PaperReader.ReadAllAsync(files, readerOptions, cancellationToken).ConfigureAwait(false))
            {
                if (!seenIds.Add(sourced.Paper.Id))
                {
                    duplicates++;
                    continue;
                }
                chunk.Add(sourced.Paper);
                if (chunk.Count == ChunkSize)
                {
                    await FlushAsync().ConfigureAwait(false);
                    options.Progress?.Report(new WorkProgress("embedding", writer.Count, null, "papers"));
                }
            }
            if (chunk.Count > 0)
            {
                await FlushAsync().ConfigureAwait(false);
            }
            options.Progress?.Report(new WorkProgress("embedding", writer.Count, writer.Count, "papers"));
            writer.Complete();
            return new EmbedSummary(writer.Count, truncated, empty, skipped, duplicates, clock.Elapsed.TotalSeconds, format,
                encoder.Dimension, encoder.Fingerprint, model.Info.Provider);
        }, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// Outputs that go to a file or to a stream: file writers publish atomically under a path, so a stream destination
/// (stdout, an HTTP response) gets the finished file copied into it from a temporary folder.
/// </summary>
internal static class StreamOutput
{
    public static async Task<T> WriteAsync<T>(string? path, Stream? destination, Func<string, Task<T>> writeFile, CancellationToken cancellationToken)
    {
        if (path is not null)
        {
            return await writeFile(path).ConfigureAwait(false);
        }
        string folder = Path.Combine(Path.GetTempPath(), "embeddings-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            string temp = Path.Combine(folder, "output");
            T result = await writeFile(temp).ConfigureAwait(false);
            await using (var source = new FileStream(temp, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
            {
                await source.CopyToAsync(destination!, cancellationToken).ConfigureAwait(false);
            }
            await destination!.FlushAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
