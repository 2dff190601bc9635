using Embeddings.Encoding;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Encoding;

/// <summary>The jsonl and bin output formats: exact round trips, atomic publication, corruption detection.</summary>
public sealed class EmbeddingFileTests
{
    private static (string[] Ids, float[][] Vectors, bool[] Truncated, bool[] Empty) Sample(int count, int dim)
    {
        var rng = new Random(7);
        var ids = Enumerable.Range(0, count).Select(i => i % 3 == 0 ? $"arxiv:{i}" : $"p-{i}-ü✓").ToArray();
        var vectors = Enumerable.Range(0, count).Select(i => Enumerable.Range(0, dim).Select(_ => (float)(rng.NextDouble() * 2 - 1) / 3f).ToArray()).ToArray();
        vectors[1] = new float[dim];
        vectors[2][0] = float.Epsilon;
        vectors[2][1] = -0f;
        vectors[2][2] = 1e-30f;
        var truncated = Enumerable.Range(0, count).Select(i => i % 4 == 3).ToArray();
        var empty = Enumerable.Range(0, count).Select(i => i == 1).ToArray();
        return (ids, vectors, truncated, empty);
    }

    private static void WriteAll(IEmbeddingWriter w, (string[] Ids, float[][] Vectors, bool[] Truncated, bool[] Empty) s)
    {
        for (int i = 0; i < s.Ids.Length; i++)
        {
            w.Write(s.Ids[i], s.Vectors[i], s.Truncated[i], s.Empty[i]);
        }
        w.Complete();
    }

    [Fact]
    public void Bin_round_trips_ids_vectors_flags_and_fingerprint_exactly()
    {
        using var dir = new TempDir();
        var s = Sample(37, 19);
        string path = dir.File("out.bin");
        using (IEmbeddingWriter w = EmbeddingWriter.Create(EmbeddingFileFormat.Bin, path, 19, "use-lite-512-abc"))
        {
            WriteAll(w, s);
        }
        EmbeddingFileContents back = EmbeddingBinaryFormat.Read(path);
        Assert.Equal("use-lite-512-abc", back.Fingerprint);
        Assert.Equal(19, back.Batch.Dimension);
        Assert.Equal(s.Ids, back.Ids);
        Assert.Equal(s.Truncated, back.Batch.Truncated);
        Assert.Equal(s.Empty, back.Batch.IsEmpty);
        for (int i = 0; i < s.Ids.Length; i++)
        {
            Assert.Equal(s.Vectors[i], back.Batch[i].ToArray());
        }
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void Every_flipped_byte_of_a_bin_file_is_a_data_format_exception()
    {
        using var dir = new TempDir();
        string path = dir.File("out.bin");
        using (IEmbeddingWriter w = EmbeddingWriter.Create(EmbeddingFileFormat.Bin, path, 4, "fp"))
        {
            WriteAll(w, Sample(3, 4));
        }
        byte[] good = File.ReadAllBytes(path);
        for (int i = 0; i < good.Length; i++)
        {
            byte[] bad = (byte[])good.Clone();
            bad[i] ^= 0x10;
            File.WriteAllBytes(path, bad);
            var e = Assert.Throws<DataFormatException>(() => EmbeddingBinaryFormat.Read(path));
            Assert.Equal(path, e.Path);
        }
        File.WriteAllBytes(path, good[..^5]);
        Assert.Throws<DataFormatException>(() => EmbeddingBinaryFormat.Read(path));
    }

    [Fact]
    public void Jsonl_round_trips_floats_exactly_in_invariant_form()
    {
        using var dir = new TempDir();
        var s = Sample(11, 7);
        string path = dir.File("out.jsonl");
        using (IEmbeddingWriter w = EmbeddingWriter.Create(EmbeddingFileFormat.Jsonl, path, 7, "fp"))
        {
            WriteAll(w, s);
        }
        string[] lines = File.ReadAllLines(path);
        Assert.Equal(11, lines.Length);
        Assert.StartsWith("{\"id\":\"arxiv:0\",\"vector\":[", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains("1,5", StringComparison.Ordinal));
        var back = EmbeddingJsonl.Read(path).ToList();
        for (int i = 0; i < 11; i++)
        {
            Assert.Equal(s.Ids[i], back[i].Id);
            Assert.Equal(s.Vectors[i], back[i].Vector);
            Assert.Equal(s.Truncated[i], back[i].Truncated);
            Assert.Equal(s.Empty[i], back[i].IsEmpty);
        }
    }

    [Fact]
    public void An_unfinished_writer_leaves_no_file_and_keeps_an_old_one()
    {
        using var dir = new TempDir();
        string path = dir.File("out.bin");
        File.WriteAllText(path, "old");
        using (IEmbeddingWriter w = EmbeddingWriter.Create(EmbeddingFileFormat.Bin, path, 4, "fp"))
        {
            w.Write("a", [1, 2, 3, 4], false, false);
        }
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }
}
