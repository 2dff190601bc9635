namespace Embeddings.Bench;

internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "hnsw")
        {
            return HnswBench.Run(args[1..]);
        }
        Console.Error.WriteLine("usage: Embeddings.Bench <benchmark> [options]");
        Console.Error.WriteLine("  hnsw [--n 100000] [--dim 512] [--queries 1000] [--m 16] [--ef-construction 200] [--threads 0] [--spread 1.0] [--vectors FILE] [--no-hnswlib]");
        return args.Length == 0 ? 2 : 0;
    }
}
