namespace Embeddings.Numerics;

/// <summary>
/// Deterministic data parallelism: work is cut into a fixed number of contiguous chunks that depends only
/// on the problem size (never on the core count), each chunk writes its own slot, and callers reduce the
/// slots in chunk order. So results are identical byte for byte on 1 or 64 cores.
/// </summary>
internal static class Parallelism
{
    /// <summary>Chunk boundaries for <paramref name="count"/> items with at least <paramref name="minChunk"/> items each.</summary>
    public static int ChunkCount(int count, int minChunk) => Math.Clamp(count / Math.Max(1, minChunk), 1, 64);

    public static (int Start, int End) Chunk(int count, int chunks, int chunk)
    {
        long start = (long)count * chunk / chunks;
        long end = (long)count * (chunk + 1) / chunks;
        return ((int)start, (int)end);
    }

    /// <summary>Runs <paramref name="body"/>(chunk, start, end) for every chunk, in parallel.</summary>
    public static void ForChunks(int count, int chunks, CancellationToken cancellationToken, Action<int, int, int> body)
    {
        if (chunks <= 1)
        {
            cancellationToken.ThrowIfCancellationRequested();
            body(0, 0, count);
            return;
        }
        var options = new ParallelOptions { CancellationToken = cancellationToken };
        Parallel.For(0, chunks, options, c =>
        {
            var (s, e) = Chunk(count, chunks, c);
            body(c, s, e);
        });
    }
}
