namespace Embeddings.Bench;

internal static class Program
{
    public static int Main(string[] args)
    {
        string name = args.Length > 0 ? args[0] : "";
        string[] rest = args.Length > 0 ? args[1..] : [];
        switch (name)
        {
            case "tokenizers":
                return TokenizerBench.Run(rest);
            case "encoder":
                return EncoderBench.Run(rest);
            case "int8":
                return QuantizedEncoderBench.RunInt8(rest);
            case "embed-process":
                return QuantizedEncoderBench.RunEmbedProcess(rest);
            case "ingest":
                return IngestBench.Run(rest);
            case "hnsw":
                return HnswBench.Run(rest);
            case "hnsw-data":
                return HnswData.RunAsync(rest).GetAwaiter().GetResult();
            case "hnsw-peer":
                return HnswPeer.Run(rest);
            case "topics":
                return TopicsBench.Run(rest);
            case "digest-demo":
                return DigestDemo.Run(rest);
            case "postgres":
                return PostgresBench.RunAsync(rest).GetAwaiter().GetResult();
            case "postgres-quality":
                return PostgresQualityBench.RunAsync(rest).GetAwaiter().GetResult();
            case "quality":
                return QualityBench.Run(rest);
            case "card-tokenizers":
                return CardTokenizerBench.Run(rest);
            case "gpu-check":
                return GpuCheck.Run(rest);
        }
        Console.Error.WriteLine("usage: Embeddings.Bench <benchmark> [options]");
        Console.Error.WriteLine("  tokenizers");
        Console.Error.WriteLine("  encoder [--limit N]");
        Console.Error.WriteLine("  int8 [--float DIR] [--int8 DIR] [--rounds 3] [--threads 2]");
        Console.Error.WriteLine("  embed-process [--model DIR] [--rounds 3] [--threads 2] [--cli DLL] [--variant NAME:VAR=VALUE,...] [--baseline-cli NAME:DLL]");
        Console.Error.WriteLine("  ingest");
        Console.Error.WriteLine("  hnsw [--data glove-100 | --vectors FILE --dim D | --n 100000 --dim 512] [--queries 1000] [--m 16] [--ef-construction 200] [--ef 16,32,...] [--engines float,int8,native,python] [--rounds 3] [--passes 2] [--threads 0]");
        Console.Error.WriteLine("  hnsw-data glove [--tarball FILE] | real [--model DIR]   (writes bench/data/NAME.f32 + NAME.json)");
        Console.Error.WriteLine("  topics [--sizes 10000,100000] [--dim 512] [--k 50] [--no-sklearn]");
        Console.Error.WriteLine("  digest-demo [--dumps DIR] [--out DIR] [--k N]");
        Console.Error.WriteLine("  postgres [--n 100000] [--dim 384] [--queries 1000] [--m 16] [--ef-construction 200] [--rounds 2]");
        Console.Error.WriteLine("  quality [--scifact DIR] [--dims 384] [--repeat 3]");
        Console.Error.WriteLine("  gpu-check [--model DIR] [--limit 1000]");
        Console.Error.WriteLine("  card-tokenizers [--rounds 7]");
        return 2;
    }
}
