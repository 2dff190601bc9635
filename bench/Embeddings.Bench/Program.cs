namespace Embeddings.Bench;

internal static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("usage: Embeddings.Bench <benchmark> [options]");
        return args.Length == 0 ? 2 : 0;
    }
}
