using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.IO;
using Embeddings.Progress;

namespace Embeddings.Cli.Commands;

/// <summary><c>embeddings embed &lt;files...&gt; -o &lt;out&gt;</c>: papers in, one vector per paper out.</summary>
internal static class EmbedCommand
{
    /// <summary>Papers encoded per call: large enough for full batches over all cores, small enough to stream.</summary>
    private const int ChunkSize = 512;

    internal static Command Create()
    {
        var files = new Argument<string[]>("files")
        {
            Description = "Input files: daily-papers dumps (.txt), JSONL or CSV, optionally .gz.",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string>("--output", "-o") { Description = "Output file.", Required = true };
        var model = ModelOptions.ModelOption();
        var format = new Option<string?>("--format")
        {
            Description = "jsonl (one {\"id\",\"vector\",\"truncated\"} object per line) or bin (docs/formats.md). Default: bin when the output ends in .bin, else jsonl.",
        };
        format.AcceptOnlyFromAmong("jsonl", "bin");
        var threads = ModelOptions.ThreadsOption();
        var device = ModelOptions.DeviceOption();
        var fallback = ModelOptions.FallbackOption();
        var skipBad = new Option<bool>("--skip-bad") { Description = "Report bad input records on stderr and go on, instead of stopping at the first." };
        var noWindowing = new Option<bool>("--no-windowing") { Description = "Cut long texts to the model's token limit instead of embedding sentence windows." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress output." };

        var command = new Command("embed", "Embed the papers of the input files (title + abstract) with a sentence encoder.")
        {
            files, output, model, format, threads, device, fallback, skipBad, noWindowing, quiet,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(ct => RunAsync(
            parse.GetValue(files)!,
            parse.GetValue(output)!,
            parse.GetValue(model),
            parse.GetValue(format),
            parse.GetValue(threads),
            parse.GetValue(device)!,
            parse.GetValue(fallback),
            parse.GetValue(skipBad),
            parse.GetValue(noWindowing),
            parse.GetValue(quiet),
            ct), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string[] files, string output, string? modelDir, string? formatText, int threads,
        string device, bool allowFallback, bool skipBad, bool noWindowing, bool quiet, CancellationToken cancellationToken)
    {
        foreach (string file in files)
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"input file '{file}' does not exist.", file);
            }
        }
        EmbeddingFileFormat format = formatText is not null
            ? EmbeddingWriter.ParseFormat(formatText)
            : output.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) ? EmbeddingFileFormat.Bin : EmbeddingFileFormat.Jsonl;

        var options = new EncoderOptions
        {
            Threads = threads,
            Device = ModelOptions.ParseDevice(device),
            AllowCpuFallback = allowFallback,
            Windowing = noWindowing ? false : null,
        };
        using ISentenceEncoder? encoder = ModelOptions.LoadEncoder(modelDir, options);
        if (encoder is null)
        {
            return CliRunner.Failed;
        }

        var issues = new List<PaperReadIssue>();
        var readerOptions = new PaperReaderOptions
        {
            SkipBad = skipBad,
            OnIssue = issue =>
            {
                issues.Add(issue);
                Console.Error.WriteLine("embeddings: " + (issue.Kind == PaperIssueKind.Skipped ? "skipped " : "") + issue);
            },
        };

        var clock = Stopwatch.StartNew();
        long truncated = 0;
        long empty = 0;
        using var progress = new ConsoleProgress(quiet);
        using IEmbeddingWriter writer = EmbeddingWriter.Create(format, output, encoder.Dimension, encoder.Fingerprint);
        var chunk = new List<Paper>(ChunkSize);
        // The same paper is often listed on several daily pages: each id is embedded once (the first record wins).
        var seenIds = new HashSet<string>(StringComparer.Ordinal);
        long duplicates = 0;
        var texts = new List<string>(ChunkSize);

        // The hook between readers and the encoder: any IAsyncEnumerable<SourcedPaper> can feed it.
        IAsyncEnumerable<SourcedPaper> papers = PaperReader.ReadAllAsync(files, readerOptions, cancellationToken);
        await foreach (SourcedPaper sourced in papers.ConfigureAwait(false))
        {
            if (!seenIds.Add(sourced.Paper.Id))
            {
                duplicates++;
                continue;
            }
            chunk.Add(sourced.Paper);
            if (chunk.Count == ChunkSize)
            {
                (long t, long e) = await EncodeChunkAsync(encoder, chunk, texts, writer, cancellationToken).ConfigureAwait(false);
                truncated += t;
                empty += e;
                progress.Report(new WorkProgress("embedding", writer.Count, null, "papers"));
            }
        }
        if (chunk.Count > 0)
        {
            (long t, long e) = await EncodeChunkAsync(encoder, chunk, texts, writer, cancellationToken).ConfigureAwait(false);
            truncated += t;
            empty += e;
        }
        progress.Report(new WorkProgress("embedding", writer.Count, writer.Count, "papers"));
        writer.Complete();
        clock.Stop();

        long skipped = issues.Count(i => i.Kind == PaperIssueKind.Skipped);
        double seconds = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"embedded {writer.Count} papers ({truncated} truncated, {empty} empty, {skipped} skipped, {duplicates} repeated ids left out) in {seconds:F1} s " +
            $"({(seconds > 0 ? writer.Count / seconds : 0):F1} papers/s) -> {output} [{format.ToString().ToLowerInvariant()}, " +
            $"{encoder.Dimension}-d, {encoder.Fingerprint}, {(encoder is OnnxSentenceEncoder onnx ? onnx.Device.ToString().ToLowerInvariant() : "cpu")}]"));
        return CliRunner.Ok;
    }

    private static async Task<(long Truncated, long Empty)> EncodeChunkAsync(ISentenceEncoder encoder, List<Paper> chunk,
        List<string> texts, IEmbeddingWriter writer, CancellationToken cancellationToken)
    {
        texts.Clear();
        foreach (Paper paper in chunk)
        {
            texts.Add(paper.EmbeddingText);
        }
        EmbeddingBatch batch = await encoder.EncodeAsync(texts, cancellationToken).ConfigureAwait(false);
        long truncated = 0;
        long empty = 0;
        for (int i = 0; i < chunk.Count; i++)
        {
            writer.Write(chunk[i].Id, batch[i], batch.Truncated[i], batch.IsEmpty[i]);
            truncated += batch.Truncated[i] ? 1 : 0;
            empty += batch.IsEmpty[i] ? 1 : 0;
        }
        chunk.Clear();
        return (truncated, empty);
    }
}

/// <summary>Options shared by the commands that load a model, and the loading with one-line errors.</summary>
internal static class ModelOptions
{
    public static Option<string?> ModelOption() => new("--model", "-m")
    {
        Description = $"Model folder (embeddings-model.json, a sentence-transformers ONNX export or an lsa model). Default: the store's own model, else ${SentenceEncoder.ModelVariable}, else models/{PackagedModels.Default.FolderName} in the repository.",
    };

    public static Option<int> ThreadsOption() => new("--threads", "-t")
    {
        Description = "Threads for the model (default: all cores).",
        DefaultValueFactory = _ => 0,
    };

    public static Option<string> DeviceOption()
    {
        var option = new Option<string>("--device")
        {
            Description = "cpu (default) or cuda (needs the GPU build of ONNX Runtime: scripts/setup.sh --cuda; CUDA 13 and cuDNN 9).",
            DefaultValueFactory = _ => "cpu",
        };
        option.AcceptOnlyFromAmong("cpu", "cuda");
        return option;
    }

    public static Option<bool> FallbackOption() => new("--allow-cpu-fallback")
    {
        Description = "With --device cuda: when CUDA cannot be used, warn and run on CPU instead of failing.",
    };

    public static EncoderDevice ParseDevice(string device) =>
        device == "cuda" ? EncoderDevice.Cuda : EncoderDevice.Cpu;

    /// <summary>
    /// The model folder to use: <paramref name="modelDir"/>, else the one <paramref name="storeDir"/> recorded, else the
    /// default model (<see cref="Store.StoreModel"/>); a <see cref="ModelLoadException"/> says how to get one.
    /// </summary>
    public static string ResolveModelDirectory(string? modelDir, string? storeDir = null) =>
        Store.StoreModel.ResolveModelDirectory(storeDir, modelDir);

    /// <summary>
    /// Loads the encoder of any model folder (ONNX kinds or a corpus-fitted LSA model, by its manifest). Load errors
    /// are <see cref="EmbeddingsException"/>s that CliRunner prints as one line; a CPU fallback warning goes to stderr.
    /// </summary>
    public static ISentenceEncoder? LoadEncoder(string? modelDir, EncoderOptions options, string? storeDir = null)
    {
        string dir = ResolveModelDirectory(modelDir, storeDir);
        ISentenceEncoder encoder = ModelFolders.Load(dir, options);
        if (encoder is OnnxSentenceEncoder { ProviderWarning: { } warning })
        {
            Console.Error.WriteLine("embeddings: warning: " + warning);
        }
        return encoder;
    }
}
