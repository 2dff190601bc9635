namespace Embeddings.Bench;

internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "tokenizers")
        {
            return TokenizerBench.Run(args[1..]);
        }
        if (args.Length > 0 && args[0] == "ingest")
        {
            return IngestBench.Run(args[1..]);
        }
        Console.Error.WriteLine("usage: Embeddings.Bench <benchmark> [options]");
        return args.Length == 0 ? 2 : 0;
    }
}
