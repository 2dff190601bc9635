using System.Text;

namespace Embeddings.Cli;

/// <summary>One column of a <see cref="TextTable"/>.</summary>
/// <param name="Header">The label printed above the column.</param>
/// <param name="Share">0 for a column as wide as its widest cell (ids, scores); otherwise the column wraps its text,
/// and the columns that wrap share the width the others leave in proportion to this.</param>
/// <param name="RightAligned">Numbers are right-aligned.</param>
internal readonly record struct TableColumn(string Header, int Share = 0, bool RightAligned = false);

/// <summary>
/// Tables as the CLI prints them: on a terminal, labelled columns fitted to its width with long text wrapped between
/// words (never inside one, unless a single word is wider than its column); anywhere else (a pipe, a file), one plain
/// tab-separated line per row with no header, for <c>cut</c>, <c>sort</c> and scripts.
/// </summary>
internal static class TextTable
{
    private const string Gap = "  ";

    /// <summary>Renders <paramref name="rows"/> (one cell per column) for a terminal <paramref name="width"/> columns wide, or as TSV.</summary>
    public static string Render(IReadOnlyList<TableColumn> columns, IReadOnlyList<string[]> rows, bool terminal, int width)
    {
        var text = new StringBuilder();
        if (!terminal)
        {
            foreach (string[] row in rows)
            {
                for (int c = 0; c < columns.Count; c++)
                {
                    if (c > 0)
                    {
                        text.Append('\t');
                    }
                    text.Append(Plain(row[c]));
                }
                text.Append('\n');
            }
            return text.ToString();
        }
        int[] widths = Widths(columns, rows, width);
        WriteLines(text, columns, widths, [.. columns.Select(c => c.Header)]);
        foreach (string[] row in rows)
        {
            WriteLines(text, columns, widths, row);
        }
        return text.ToString();
    }

    /// <summary>
    /// Text wrapped to <paramref name="width"/> columns between words, each line after the first indented by
    /// <paramref name="indent"/> spaces (for paragraphs such as an abstract).
    /// </summary>
    public static string Wrap(string value, int width, int indent = 0)
    {
        var text = new StringBuilder();
        List<string> lines = WrapLines(value, Math.Max(10, width - indent));
        for (int i = 0; i < lines.Count; i++)
        {
            if (i > 0)
            {
                text.Append('\n').Append(' ', indent);
            }
            text.Append(lines[i]);
        }
        return text.ToString();
    }

    private static int[] Widths(IReadOnlyList<TableColumn> columns, IReadOnlyList<string[]> rows, int width)
    {
        var widths = new int[columns.Count];
        int fixedWidth = Gap.Length * (columns.Count - 1);
        int shares = 0;
        for (int c = 0; c < columns.Count; c++)
        {
            int widest = columns[c].Header.Length;
            foreach (string[] row in rows)
            {
                widest = Math.Max(widest, Plain(row[c]).Length);
            }
            widths[c] = widest;
            if (columns[c].Share == 0)
            {
                fixedWidth += widest;
            }
            else
            {
                shares += columns[c].Share;
            }
        }
        // The wrapping columns share what is left, but never get less than 12 columns each (a narrow terminal then
        // makes lines longer than its width, which it folds, rather than one word per line). A column whose text is
        // shorter than its share gives the rest to the others.
        int left = Math.Max(0, width - fixedWidth);
        var wrapping = Enumerable.Range(0, columns.Count).Where(c => columns[c].Share > 0).ToList();
        while (wrapping.Count > 0)
        {
            int total = wrapping.Sum(c => columns[c].Share);
            int narrow = wrapping.FindIndex(c => widths[c] <= Math.Max(12, left * columns[c].Share / total));
            if (narrow < 0)
            {
                foreach (int c in wrapping)
                {
                    widths[c] = Math.Max(12, left * columns[c].Share / total);
                }
                break;
            }
            left -= widths[wrapping[narrow]];
            wrapping.RemoveAt(narrow);
        }
        return widths;
    }

    private static void WriteLines(StringBuilder text, IReadOnlyList<TableColumn> columns, int[] widths, string[] cells)
    {
        var wrapped = new List<string>[columns.Count];
        int height = 1;
        for (int c = 0; c < columns.Count; c++)
        {
            wrapped[c] = columns[c].Share > 0 ? WrapLines(cells[c], widths[c]) : [Plain(cells[c])];
            height = Math.Max(height, wrapped[c].Count);
        }
        for (int line = 0; line < height; line++)
        {
            var row = new StringBuilder();
            for (int c = 0; c < columns.Count; c++)
            {
                string cell = line < wrapped[c].Count ? wrapped[c][line] : "";
                if (c > 0)
                {
                    row.Append(Gap);
                }
                if (columns[c].RightAligned)
                {
                    row.Append(' ', Math.Max(0, widths[c] - cell.Length)).Append(cell);
                }
                else
                {
                    row.Append(cell);
                    if (c < columns.Count - 1)
                    {
                        row.Append(' ', Math.Max(0, widths[c] - cell.Length));
                    }
                }
            }
            text.Append(row.ToString().TrimEnd()).Append('\n');
        }
    }

    /// <summary>Lines of at most <paramref name="width"/> characters, broken between words; a longer word is cut.</summary>
    internal static List<string> WrapLines(string value, int width)
    {
        width = Math.Max(1, width);
        var lines = new List<string>();
        var line = new StringBuilder();
        foreach (string word in Plain(value).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string rest = word;
            if (line.Length > 0 && line.Length + 1 + rest.Length <= width)
            {
                line.Append(' ').Append(rest);
                continue;
            }
            if (line.Length > 0)
            {
                lines.Add(line.ToString());
                line.Clear();
            }
            while (rest.Length > width)
            {
                lines.Add(rest[..width]);
                rest = rest[width..];
            }
            line.Append(rest);
        }
        if (line.Length > 0 || lines.Count == 0)
        {
            lines.Add(line.ToString());
        }
        return lines;
    }

    /// <summary>A cell as one line: tabs and line breaks become spaces.</summary>
    private static string Plain(string value) =>
        value.AsSpan().IndexOfAny('\t', '\n', '\r') < 0 ? value : value.Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' ');
}
