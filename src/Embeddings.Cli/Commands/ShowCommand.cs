using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings show ID --store DIR [--json]</c>: one stored paper (title, authors, date, categories, link, abstract,
/// where it was read from), to open a hit.
/// </summary>
internal static class ShowCommand
{
    internal static Command Create(CliConsole console)
    {
        var id = new Argument<string>("id") { Description = "The paper's id (as `similar` and `list` show it)." };
        var store = CommonOptions.Store();
        var json = CommonOptions.Json("Print the paper as one JSON object (docs/formats.md: the paper contract).");
        var output = CommonOptions.OptionalOutput("Write to this file instead of stdout.");
        var command = new Command("show", "Show one stored paper: title, authors, date, categories, link, abstract, and the dump and line it was read from.")
        {
            id, store, json, output,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            string paperId = parse.GetValue(id)!;
            await using PaperLibrary library = await PaperLibrary.OpenAsync(new PaperLibraryOptions { StoreDirectory = parse.GetValue(store)! },
                new CliLogger(console), ct).ConfigureAwait(false);
            PaperDetails paper = await library.GetPaperAsync(paperId, ct).ConfigureAwait(false)
                ?? throw new PaperNotFoundException(paperId, library.StoreDirectory);
            await using CommandOutput writer = CommandOutput.Open(console, parse.GetValue(output));
            await writer.Text.WriteAsync(parse.GetValue(json) ? LibraryJson.Paper(paper) + "\n" : Format(paper, console.Width)).ConfigureAwait(false);
            writer.Complete();
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>The paper as labelled lines and its abstract wrapped to <paramref name="width"/>.</summary>
    internal static string Format(PaperDetails paper, int width)
    {
        const int Label = 12;
        var text = new StringBuilder();
        void Line(string label, string value) =>
            text.Append(label.PadRight(Label)).Append(TextTable.Wrap(value, width, Label)).Append('\n');
        Line("id", paper.Id);
        Line("title", paper.Title.Length > 0 ? paper.Title : "(none)");
        Line("authors", paper.Authors is { Count: > 0 } a ? string.Join(", ", a)
            : paper.AuthorCount is int n ? string.Create(CultureInfo.InvariantCulture, $"{n} (not named in the input)") : "unknown");
        Line("date", DateOf(paper));
        Line("categories", paper.Categories is { Count: > 0 } c ? string.Join(", ", c) : "none given");
        Line("link", paper.Url ?? "none known");
        string source = paper.SourceFile is { } file
            ? paper.SourceLine > 0 ? string.Create(CultureInfo.InvariantCulture, $"{file}:{paper.SourceLine}") : file
            : paper.Sources.Count > 0 ? paper.Sources[0] : "unknown";
        string[] others = [.. paper.Sources.Where(s => s != (paper.SourceFile ?? paper.Sources.FirstOrDefault()))];
        Line("source", others.Length == 0 ? source : $"{source} (also in {string.Join(", ", others)})");
        Line("stored", string.Create(CultureInfo.InvariantCulture,
            $"{paper.FirstSeen.ToUniversalTime():yyyy-MM-dd HH:mm} UTC, revision {paper.Revision}{(paper.Truncated ? ", text longer than the model reads (truncated)" : "")}"));
        text.Append('\n').Append(TextTable.Wrap(paper.Abstract, width)).Append('\n');
        return text.ToString();
    }

    /// <summary>The date as a reader should see it: the date, or why there is none.</summary>
    internal static string DateOf(PaperDetails paper) =>
        paper.Date ?? (paper.DateText is { } written ? $"unknown (the input says \"{written}\", with no year)" : "unknown");
}
