using System.CommandLine;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings list --store DIR [--filter ...] [--json]</c>: the stored papers (id, date, title), to find an id to
/// <c>show</c> or to query with.
/// </summary>
internal static class ListCommand
{
    private static readonly TableColumn[] Columns = [new("id"), new("date"), new("title", Share: 1)];

    internal static Command Create(CliConsole console)
    {
        var store = CommonOptions.Store();
        var filter = new Option<string[]>("--filter")
        {
            Description = "Only papers that pass: date>=YYYY-MM-DD, date<=YYYY-MM-DD, date=YYYY-MM, category=NAME[,NAME], id=ID[,ID]. Repeat to combine.",
        };
        var json = CommonOptions.Json("Print one JSON object per paper (JSON Lines; the paper contract of docs/formats.md).");
        var output = CommonOptions.OptionalOutput("Write to this file instead of stdout.");
        var command = new Command("list", "List the stored papers: id, date and title (a table on a terminal, tab-separated lines otherwise).")
        {
            store, filter, json, output,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            PaperFilter? paperFilter = SimilarCommand.ParseFilter(parse.GetValue(filter) ?? []);
            await using PaperLibrary library = await PaperLibrary.OpenAsync(new PaperLibraryOptions { StoreDirectory = parse.GetValue(store)! },
                new CliLogger(console), ct).ConfigureAwait(false);
            string? outputPath = parse.GetValue(output);
            bool terminal = console.OutputIsTerminal && (outputPath is null || outputPath == CommonOptions.Stdout);
            await using CommandOutput writer = CommandOutput.Open(console, outputPath);
            var rows = new List<string[]>();
            int count = 0;
            await foreach (PaperDetails paper in library.ListPapersAsync(paperFilter, ct).ConfigureAwait(false))
            {
                count++;
                if (parse.GetValue(json))
                {
                    await writer.Text.WriteLineAsync(LibraryJson.Paper(paper)).ConfigureAwait(false);
                    continue;
                }
                rows.Add([paper.Id, paper.Date ?? "", paper.Title]);
                if (!terminal && rows.Count == 1000)
                {
                    // Streams: a pipe gets its lines as they come, not after the whole store.
                    await writer.Text.WriteAsync(TextTable.Render(Columns, rows, terminal: false, console.Width)).ConfigureAwait(false);
                    rows.Clear();
                }
            }
            if (rows.Count > 0)
            {
                await writer.Text.WriteAsync(TextTable.Render(Columns, rows, terminal, console.Width)).ConfigureAwait(false);
            }
            writer.Complete();
            if (count == 0)
            {
                console.Report(paperFilter is null ? "the store holds no papers" : "no stored paper passes the filter");
            }
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }
}
