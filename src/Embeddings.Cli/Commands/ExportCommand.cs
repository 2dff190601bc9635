using System.CommandLine;
using Embeddings.IO;
using Embeddings.Store;

namespace Embeddings.Cli.Commands;

/// <summary><c>embeddings export --store DIR --format jsonl|bin|npy -o OUT</c>: the latest vectors of a store for other tools.</summary>
internal static class ExportCommand
{
    internal static Command Create()
    {
        var store = new Option<string>("--store", "-s") { Description = "Store directory.", Required = true };
        var format = new Option<string>("--format", "-f")
        {
            Description = "jsonl ({\"id\",\"title\",\"vector\"} per line), bin (the embed command's binary format, docs/formats.md) or npy (float32 matrix; ids in OUT with extension .ids.txt).",
            Required = true,
        };
        format.AcceptOnlyFromAmong("jsonl", "bin", "npy");
        var output = new Option<string>("--output", "-o") { Description = "Output file.", Required = true };
        var command = new Command("export", "Write a store's papers and vectors as JSONL, the binary embedding format, or numpy .npy.")
        {
            store, format, output,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(async ct =>
        {
            using PaperStore s = PaperStore.Open(parse.GetValue(store)!);
            string path = parse.GetValue(output)!;
            long count;
            switch (parse.GetValue(format))
            {
                case "jsonl":
                    count = await StoreExport.WriteJsonlAsync(s, path, ct).ConfigureAwait(false);
                    break;
                case "npy":
                    count = StoreExport.WriteNpy(s, path, ct);
                    Console.Error.WriteLine($"embeddings: ids in {StoreExport.IdsPathFor(path)}");
                    break;
                default:
                    count = await WriteBinAsync(s, path, ct).ConfigureAwait(false);
                    break;
            }
            Console.Error.WriteLine($"embeddings: exported {count} papers ({s.Dimension}-d, {s.ModelFingerprint}) -> {path}");
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }

    private static async Task<long> WriteBinAsync(PaperStore store, string path, CancellationToken cancellationToken)
    {
        using IEmbeddingWriter writer = EmbeddingWriter.Create(EmbeddingFileFormat.Bin, path, store.Dimension, store.ModelFingerprint);
        float[] vector = new float[store.Dimension];
        await foreach (StoredPaper paper in store.ReadPapersAsync(cancellationToken).ConfigureAwait(false))
        {
            store.ReadRow(paper.Row, vector);
            writer.Write(paper.Paper.Id, vector, (paper.Flags & StoredPaperFlags.Truncated) != 0, (paper.Flags & StoredPaperFlags.Empty) != 0);
        }
        writer.Complete();
        return writer.Count;
    }
}
