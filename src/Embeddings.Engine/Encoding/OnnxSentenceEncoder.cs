using System.Buffers;
using System.Text.Json;
using Embeddings.Tokenization;

namespace Embeddings.Encoding;

/// <summary>Builds sentence encoders from model folders.</summary>
internal static class SentenceEncoder
{
    /// <summary>Environment variable naming the default model folder (overrides models/all-MiniLM-L6-v2-int8).</summary>
    public const string ModelVariable = "EMBEDDINGS_MODEL";

    /// <summary>
    /// Loads the model folder <paramref name="modelDirectory"/> (our manifest or a sentence-transformers export),
    /// checks its files, creates the ONNX Runtime session and the tokenizer. The result is thread-safe and long-lived:
    /// load once, encode many times.
    /// </summary>
    /// <exception cref="ModelLoadException">The folder or a file is missing, corrupt or inconsistent.</exception>
    /// <exception cref="OnnxRuntimeNotFoundException">The ONNX Runtime library cannot be found or loaded.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA was asked for, cannot be used, and fallback is off.</exception>
    public static OnnxSentenceEncoder Load(string modelDirectory, EncoderOptions? options = null)
    {
        options ??= EncoderOptions.Default;
        options.Validate();
        RefuseOtherKinds(modelDirectory);
        // The files' sizes and hashes are checked inside Create, beside the session's creation.
        ModelManifest manifest = ModelManifest.Load(modelDirectory, verifyHashes: false);
        return OnnxSentenceEncoder.Create(manifest, options, verifyFiles: options.VerifyModelFiles && manifest.FromManifestFile);
    }

    /// <summary>
    /// The default model folder: <c>EMBEDDINGS_MODEL</c> when set, else <c>models/all-MiniLM-L6-v2-int8</c>
    /// (<see cref="PackagedModels.Default"/>, installed by scripts/setup.sh) in <see cref="FindModelsDirectory"/>. Null
    /// when neither is found.
    /// </summary>
    public static string? FindDefaultModelDirectory()
    {
        if (Environment.GetEnvironmentVariable(ModelVariable) is { Length: > 0 } fromEnv)
        {
            return Path.GetFullPath(fromEnv);
        }
        return FindModelsDirectory() is { } models ? Path.Combine(models, PackagedModels.Default.FolderName) : null;
    }

    /// <summary>
    /// The <c>models</c> folder of the nearest folder above the executable (then above the current directory) that
    /// holds an <c>Embeddings.sln</c> or a <c>models/</c> folder with the default model: where set-up and
    /// <c>embeddings model install</c> put model folders. Null when there is none.
    /// </summary>
    public static string? FindModelsDirectory()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string models = Path.Combine(dir.FullName, "models");
                if (Directory.Exists(Path.Combine(models, PackagedModels.Default.FolderName)) || File.Exists(Path.Combine(dir.FullName, "Embeddings.sln")))
                {
                    return models;
                }
            }
        }
        return null;
    }

    /// <summary>
    /// Refuses a folder of a kind that is not ONNX (an <c>lsa</c> folder, pointing at <see cref="ModelFolders.Load"/>,
    /// or an unknown kind, listing the known ones) before anything is loaded.
    /// </summary>
    internal static void RefuseOtherKinds(string modelDirectory)
    {
        if (Directory.Exists(modelDirectory) && ModelManifest.ReadKind(modelDirectory) is { } kind
            && kind != ModelManifest.KindToString(ModelKind.UseLite) && kind != ModelManifest.KindToString(ModelKind.SentenceTransformers))
        {
            if (kind == "lsa")
            {
                throw new ModelLoadException($"{modelDirectory}: an lsa model folder, not an ONNX model: load it with ModelFolders.Load (the CLI's --model does).");
            }
            ModelManifest.ParseKind(kind, Path.Combine(modelDirectory, ModelManifest.FileName) + ": field 'kind'");
        }
    }
}

/// <summary>
/// Sentence encoder over an ONNX model (USE-lite or a sentence-transformers export). Texts are tokenized, cut into
/// sentence windows when longer than the model reads, sorted by length, packed into batches under a token budget,
/// run over the cores, pooled, and written back in input order. The vector of a text does not depend on the other
/// texts of the call. Thread-safe and long-lived; create it with <see cref="SentenceEncoder.Load"/>.
/// </summary>
internal sealed class OnnxSentenceEncoder : ISentenceEncoder
{
    private const int MaxRowsPerBatch = 256;

    private readonly ModelRunner _runner;
    private readonly Tokenizer _tokenizer;
    private readonly int _bodyLimit;
    private readonly int _tokenBudget;
    private readonly int _concurrentRuns;
    private int _disposed;

    private OnnxSentenceEncoder(ModelManifest manifest, ModelRunner runner, Tokenizer tokenizer, EncoderOptions options,
        int threads, int concurrentRuns)
    {
        Manifest = manifest;
        _runner = runner;
        _tokenizer = tokenizer;
        Windowing = options.Windowing ?? manifest.Windowing;
        MaxWindowsPerText = options.MaxWindowsPerText ?? manifest.MaxWindowsPerText;
        _bodyLimit = manifest.TokenLimit - runner.SpecialTokens;
        _tokenBudget = options.TokenBudgetPerBatch > 0 ? options.TokenBudgetPerBatch : DefaultTokenBudget(manifest.Kind, runner.Session.Device);
        Threads = threads;
        _concurrentRuns = concurrentRuns;
        Fingerprint = manifest.ComputeFingerprint(Windowing, MaxWindowsPerText);
    }

    /// <summary>The model folder's manifest.</summary>
    public ModelManifest Manifest { get; }

    /// <inheritdoc/>
    public string Fingerprint { get; }

    /// <inheritdoc/>
    public int Dimension => Manifest.Dimension;

    /// <summary>The tokenizer of the model (pieces without special ids via <see cref="Tokenizer.EncodeToIds(string)"/>).</summary>
    public Tokenizer Tokenizer => _tokenizer;

    /// <inheritdoc/>
    public string? QueryPrompt => Manifest.QueryPrompt;

    /// <summary>Whether long texts are embedded as sentence windows (else cut to the first window).</summary>
    public bool Windowing { get; }

    /// <summary>Cap on windows per text.</summary>
    public int MaxWindowsPerText { get; }

    /// <summary>Most word pieces of a window, special ids excluded.</summary>
    public int WindowTokenLimit => _bodyLimit;

    /// <summary>Threads used for the model.</summary>
    public int Threads { get; }

    /// <summary>Model runs in flight at once (the rest of <see cref="Threads"/> works inside each run).</summary>
    public int ConcurrentRuns => _concurrentRuns;

    /// <summary>Where the model runs (CPU after a CUDA fallback).</summary>
    public ComputeDevice Device => _runner.Session.Device;

    /// <summary>Set when CUDA was asked for and the encoder fell back to CPU: what was missing.</summary>
    public string? ProviderWarning => _runner.Session.ProviderWarning;

    /// <summary>The ONNX Runtime library in use (path, version, whether it is the GPU build).</summary>
    public OnnxRuntimeInfo Runtime => _runner.Session.Runtime;

    /// <summary>The graph's inputs as declared in the model file.</summary>
    public IReadOnlyList<OnnxTensorInfo> ModelInputs => _runner.Session.Inputs;

    /// <summary>The graph's outputs as declared in the model file.</summary>
    public IReadOnlyList<OnnxTensorInfo> ModelOutputs => _runner.Session.Outputs;

    /// <summary>What runs the graph (quantisation's calibration observes its runs).</summary>
    internal ModelRunner Runner => _runner;

    internal static OnnxSentenceEncoder Create(ModelManifest manifest, EncoderOptions options, bool verifyFiles)
    {
        int threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        EncoderParallelism mode = options.Parallelism == EncoderParallelism.Auto ? AutoParallelism(manifest.Kind) : options.Parallelism;
        int concurrent = mode == EncoderParallelism.ConcurrentBatches ? threads : 1;
        int intraOp = mode == EncoderParallelism.ConcurrentBatches ? 1 : threads;
        OnnxSessionSettings settings = (options.Session ?? new OnnxSessionSettings { IntraOpThreads = intraOp, InterOpThreads = 1 }) with
        {
            Device = options.Device,
            AllowCpuFallback = options.AllowCpuFallback,
            NativeLibraryPath = options.NativeLibraryPath ?? options.Session?.NativeLibraryPath,
        };

        // ONNX Runtime reads and prepares the graph on one thread, most of a load (0.6-0.9 s for all-MiniLM-L6-v2);
        // the files' hash check and the tokenizer (0.2 s together) run beside it instead of before it. A failed
        // check wins over whatever the runtime made of the same file: its message says which file to replace.
        Task<OnnxModelSession> opening = Task.Run(() => OnnxModelSession.Create(manifest.ModelPath, settings));
        Tokenizer tokenizer;
        try
        {
            if (verifyFiles)
            {
                manifest.VerifyFiles();
            }
            tokenizer = CreateTokenizer(manifest);
        }
        catch
        {
            DisposeWhenOpened(opening);
            throw;
        }
        OnnxModelSession session = opening.GetAwaiter().GetResult();
        try
        {
            ModelRunner runner = manifest.Kind switch
            {
                ModelKind.UseLite => new UseLiteRunner(session, manifest),
                ModelKind.SentenceTransformers => new BertRunner(session, manifest, tokenizer.ClsId, tokenizer.SepId, tokenizer.PadId),
                _ => throw new ModelLoadException($"{manifest.Directory}: kind {manifest.KindName} has no ONNX runner."),
            };
            if (manifest.Kind == ModelKind.SentenceTransformers && (tokenizer.ClsId < 0 || tokenizer.SepId < 0))
            {
                throw new ModelLoadException($"{manifest.Directory}: the tokenizer has no [CLS]/[SEP] tokens, which a sentence-transformers BERT model needs.");
            }
            return new OnnxSentenceEncoder(manifest, runner, tokenizer, options, threads, concurrent);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// What <see cref="EncoderParallelism.Auto"/> means for a model kind, from docs/encoder.md's measurements: BERT-shaped
    /// models split their large matrix products well over intra-op threads (one batch at a time, no tail of a last batch
    /// running alone); USE-lite's small operators do not, so its whole runs go side by side.
    /// </summary>
    internal static EncoderParallelism AutoParallelism(ModelKind kind) =>
        kind == ModelKind.UseLite ? EncoderParallelism.ConcurrentBatches : EncoderParallelism.IntraOp;

    /// <summary>
    /// Tokens per model run when <see cref="EncoderOptions.TokenBudgetPerBatch"/> is 0. BERT-shaped models on a CPU run
    /// fastest in runs of about 2,048 tokens, where a layer's activations (2,048 x 1,536 floats in the feed-forward
    /// layer, 12 MB) stay in the caches: on the 2-core machine the 236 dump abstracts embed in 8.1-8.5 s at 2,048
    /// against 9.5-10.0 s at 8,192 (4,096: 8.7-8.9 s; 1,024: 8.3-8.4 s), and the 3,000 short texts in 3.8-4.3 s
    /// against 4.4-4.9 s (docs/encoder.md). A GPU wants large runs, so CUDA keeps 8,192 (not measured here).
    /// USE-lite keeps its measured 4,096.
    /// </summary>
    internal static int DefaultTokenBudget(ModelKind kind, ComputeDevice device) =>
        kind == ModelKind.UseLite ? 4096 : device == ComputeDevice.Cuda ? 8192 : 2048;

    /// <summary>Waits for a session being created after a failure beside it, and releases it (its own failure is moot).</summary>
    private static void DisposeWhenOpened(Task<OnnxModelSession> opening)
    {
        try
        {
            opening.GetAwaiter().GetResult().Dispose();
        }
        catch (Exception e) when (e is EmbeddingsException or IOException or UnauthorizedAccessException)
        {
            // The caller reports the first failure; the runtime's verdict on a file that failed its check adds nothing.
        }
    }

    /// <inheritdoc/>
    public Task<EmbeddingBatch> EncodeAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        EncodeAsync(texts, progress: null, cancellationToken);

    /// <summary>
    /// Encodes <paramref name="texts"/>, reporting windows embedded through <paramref name="progress"/>.
    /// Cancellation is checked between batches and inside a run.
    /// </summary>
    public Task<EmbeddingBatch> EncodeAsync(IReadOnlyList<string> texts, IProgress<WorkProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (texts.Count == 0)
        {
            return Task.FromResult(new EmbeddingBatch(Dimension, [], [], []) { TokenCounts = [] });
        }
        return Task.Run(() => Encode(texts, progress, cancellationToken), cancellationToken);
    }

    /// <summary>Encodes synchronously on the calling thread (plus the encoder's workers).</summary>
    public EmbeddingBatch Encode(IReadOnlyList<string> texts, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        int dim = Dimension;
        using WindowPlan plan = WindowPlan.Build(texts, _tokenizer, SplitSentences, _bodyLimit, Windowing, MaxWindowsPerText);
        var vectors = new float[(long)texts.Count * dim];
        if (plan.WindowCount > 0)
        {
            float[] windowVectors = ArrayPool<float>.Shared.Rent(plan.WindowCount * dim);
            try
            {
                RunWindows(plan, plan.WindowCount, windowVectors, progress, cancellationToken);
                CombineWindows(plan, texts.Count, windowVectors, vectors);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(windowVectors);
            }
        }
        return new EmbeddingBatch(dim, vectors, plan.Truncated, plan.IsEmpty) { TokenCounts = CountTokens(plan, texts.Count) };
    }

    /// <summary>
    /// About how many tokens the model reads for <paramref name="text"/> (its word pieces, cut at the window cap, plus
    /// the special tokens of each window): what a caller packing texts under a token budget needs before encoding.
    /// Exact for a text of one window; the encoder's own count (<see cref="EmbeddingBatch.TokenCounts"/>) is exact always.
    /// </summary>
    public int EstimateTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text))
        {
            return 0;
        }
        int pieces = _tokenizer.CountTokens(text);
        int maxWindows = Windowing ? MaxWindowsPerText : 1;
        int windows = Math.Clamp((pieces + _bodyLimit - 1) / _bodyLimit, 1, maxWindows);
        return Math.Min(pieces, windows * _bodyLimit) + windows * _runner.SpecialTokens;
    }

    /// <summary>Tokens the model read per text: the windows' pieces plus their special tokens.</summary>
    private int[] CountTokens(WindowPlan plan, int textCount)
    {
        int specials = _runner.SpecialTokens;
        var counts = new int[textCount];
        for (int t = 0; t < textCount; t++)
        {
            int first = plan.FirstWindow[t];
            int sum = 0;
            for (int k = 0; k < plan.WindowCounts[t]; k++)
            {
                sum += plan.LengthOf(first + k) + specials;
            }
            counts[t] = sum;
        }
        return counts;
    }

    /// <summary>
    /// Embeds windows given as word-piece arrays (no special ids; sentence-transformers models get [CLS]/[SEP]
    /// around each), one vector per window, with the same batching as texts. For tests and benchmarks that need the
    /// model's output for exact ids.
    /// </summary>
    internal float[] EncodeWindows(IReadOnlyList<int[]> windows, CancellationToken cancellationToken = default)
    {
        var output = new float[windows.Count * Dimension];
        RunWindows(new ArrayWindowSource(windows), windows.Count, output, null, cancellationToken);
        return output;
    }

    /// <summary>Runs one batch exactly as given (no sorting or splitting).</summary>
    internal float[] RunBatch(IReadOnlyList<int[]> windows, CancellationToken cancellationToken = default)
    {
        var output = new float[windows.Count * Dimension];
        int[] all = Enumerable.Range(0, windows.Count).ToArray();
        _runner.Run(new ArrayWindowSource(windows), all, output, cancellationToken);
        return output;
    }

    /// <summary>
    /// Sorts windows by length (ties by index, so the order is deterministic) and packs batches whose padded size
    /// (rows x longest row) stays under the token budget: little padding, similar cost per batch.
    /// Returns the window order and the batch boundaries in it (last entry = window count).
    /// </summary>
    internal (int[] Order, List<int> BatchStarts) PackBatches(IWindowSource source, int windowCount)
    {
        int specials = _runner.SpecialTokens;
        long[] keys = ArrayPool<long>.Shared.Rent(windowCount);
        int[] order = ArrayPool<int>.Shared.Rent(windowCount);
        var batchStarts = new List<int>();
        try
        {
            for (int w = 0; w < windowCount; w++)
            {
                keys[w] = ((long)source.LengthOf(w) << 32) | (uint)w;
            }
            Array.Sort(keys, 0, windowCount);
            for (int i = 0; i < windowCount; i++)
            {
                order[i] = (int)(keys[i] & 0xFFFFFFFF);
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(keys);
        }
        int rows = 0;
        for (int i = 0; i < windowCount; i++)
        {
            int padded = source.LengthOf(order[i]) + specials;
            if (rows > 0 && ((rows + 1) * padded > _tokenBudget || rows == MaxRowsPerBatch))
            {
                rows = 0;
            }
            if (rows == 0)
            {
                batchStarts.Add(i);
            }
            rows++;
        }
        batchStarts.Add(windowCount);
        return (order, batchStarts);
    }

    /// <summary>
    /// The batches (lists of windows' word pieces, no special ids) that <see cref="Encode"/> would run for
    /// <paramref name="texts"/>, in run order, with the plan's token count. For benchmarks that replay them elsewhere.
    /// </summary>
    internal (List<List<int[]>> Batches, long Tokens, int Windows) PlanBatches(IReadOnlyList<string> texts)
    {
        using WindowPlan plan = WindowPlan.Build(texts, _tokenizer, SplitSentences, _bodyLimit, Windowing, MaxWindowsPerText);
        (int[] order, List<int> starts) = PackBatches(plan, plan.WindowCount);
        try
        {
            var batches = new List<List<int[]>>();
            for (int b = 0; b < starts.Count - 1; b++)
            {
                var batch = new List<int[]>();
                for (int i = starts[b]; i < starts[b + 1]; i++)
                {
                    batch.Add(plan.Window(order[i]).ToArray());
                }
                batches.Add(batch);
            }
            return (batches, plan.TokenCount, plan.WindowCount);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(order);
        }
    }

    private void RunWindows(IWindowSource source, int windowCount, float[] windowVectors, IProgress<WorkProgress>? progress,
        CancellationToken cancellationToken)
    {
        (int[] order, List<int> batchStarts) = PackBatches(source, windowCount);
        try
        {
            int batches = batchStarts.Count - 1;
            long done = 0;
            progress?.Report(new WorkProgress("embedding", 0, windowCount, "windows"));
            void RunOne(int b)
            {
                int start = batchStarts[b];
                int count = batchStarts[b + 1] - start;
                _runner.Run(source, order.AsSpan(start, count), windowVectors, cancellationToken);
                long now = Interlocked.Add(ref done, count);
                progress?.Report(new WorkProgress("embedding", now, windowCount, "windows"));
            }
            if (_concurrentRuns <= 1 || batches == 1)
            {
                for (int b = 0; b < batches; b++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    RunOne(b);
                }
            }
            else
            {
                // Longest batches first: they take longest, so starting them early evens out the finish.
                var parallelOptions = new ParallelOptions { MaxDegreeOfParallelism = _concurrentRuns, CancellationToken = cancellationToken };
                try
                {
                    Parallel.For(0, batches, parallelOptions, i => RunOne(batches - 1 - i));
                }
                catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
                {
                    if (e.InnerExceptions.All(x => x is OperationCanceledException))
                    {
                        throw new OperationCanceledException(cancellationToken);
                    }
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(
                        e.InnerExceptions.First(x => x is not OperationCanceledException)).Throw();
                    throw;
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(order);
        }
    }

    private void CombineWindows(WindowPlan plan, int textCount, float[] windowVectors, float[] vectors)
    {
        int dim = Dimension;
        bool normalize = Manifest.Normalize || Manifest.Kind == ModelKind.UseLite;
        int[] weights = ArrayPool<int>.Shared.Rent(Math.Max(1, MaxWindowsPerText));
        try
        {
            for (int t = 0; t < textCount; t++)
            {
                int count = plan.WindowCounts[t];
                if (count == 0)
                {
                    continue; // empty text: zero vector
                }
                int first = plan.FirstWindow[t];
                for (int k = 0; k < count; k++)
                {
                    weights[k] = plan.LengthOf(first + k);
                }
                WindowCombiner.Combine(windowVectors.AsSpan(first * dim, count * dim), weights.AsSpan(0, count), dim, normalize,
                    vectors.AsSpan(t * dim, dim));
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(weights);
        }
    }

    private static void SplitSentences(string text, List<Range> into) => SentenceSplitter.Split(text, into);

    private static Tokenizer CreateTokenizer(ModelManifest manifest)
    {
        try
        {
            if (manifest.Kind == ModelKind.UseLite)
            {
                string vocab = manifest.TokenizerFiles.FirstOrDefault(f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                    ?? throw new ModelLoadException($"{manifest.Directory}: a use-lite model needs a vocab.json tokenizer file.");
                return SentencePieceUnigramTokenizer.FromVocabJson(manifest.PathOf(vocab));
            }
            if (manifest.TokenizerFiles.Contains("tokenizer.json"))
            {
                return BertWordPieceTokenizer.FromTokenizerJson(manifest.PathOf("tokenizer.json"));
            }
            string vocabTxt = manifest.TokenizerFiles.FirstOrDefault(f => f.EndsWith(".txt", StringComparison.OrdinalIgnoreCase))
                ?? throw new ModelLoadException($"{manifest.Directory}: a sentence-transformers model needs tokenizer.json or vocab.txt.");
            return BertWordPieceTokenizer.FromVocabTxt(manifest.PathOf(vocabTxt), ReadBertOptions(manifest));
        }
        catch (Exception e) when (e is IOException or JsonException or FormatException or InvalidDataException or ArgumentException)
        {
            throw new ModelLoadException($"{manifest.Directory}: cannot read the tokenizer ({e.Message}).", e);
        }
    }

    private static BertTokenizerOptions ReadBertOptions(ModelManifest manifest)
    {
        string config = manifest.PathOf("tokenizer_config.json");
        if (!File.Exists(config))
        {
            return new BertTokenizerOptions();
        }
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(config));
        bool lower = !doc.RootElement.TryGetProperty("do_lower_case", out JsonElement l) || l.ValueKind != JsonValueKind.False;
        return new BertTokenizerOptions { Lowercase = lower };
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _runner.Dispose();
        }
    }
}
