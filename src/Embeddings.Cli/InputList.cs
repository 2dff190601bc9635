using System.CommandLine;

namespace Embeddings.Cli;

/// <summary>
/// Input files given on the command line and/or listed in a file (<c>--from-file LIST</c>, <c>-</c> for stdin): one path
/// per line (blank lines ignored), or NUL-separated as <c>find -print0</c> writes them. Scripts with thousands of dumps
/// pass them this way instead of on a command line that the system caps (about 2 MB on Linux).
/// </summary>
internal sealed class InputList
{
    public InputList(string what, string description)
    {
        Files = new Argument<string[]>(what) { Description = description + " Or list them with --from-file.", Arity = ArgumentArity.ZeroOrMore };
        FromFile = new Option<string?>("--from-file")
        {
            Description = $"Read the {what} from this file, one per line (or NUL-separated); `-` reads them from stdin.",
        };
    }

    public Argument<string[]> Files { get; }

    public Option<string?> FromFile { get; }

    public void AddTo(Command command)
    {
        command.Add(Files);
        command.Add(FromFile);
    }

    /// <summary>The paths of the command line followed by those of the list; at least one.</summary>
    public IReadOnlyList<string> Read(ParseResult parse, CliConsole console)
    {
        var paths = new List<string>(parse.GetValue(Files) ?? []);
        if (parse.GetValue(FromFile) is { } list)
        {
            paths.AddRange(ReadList(list, console));
        }
        if (paths.Count == 0)
        {
            throw new UsageException($"give at least one of the {Files.Name}, on the command line or with --from-file LIST (`-` for stdin).");
        }
        return paths;
    }

    /// <summary>The paths listed in <paramref name="list"/> (<c>-</c>: stdin).</summary>
    public static List<string> ReadList(string list, CliConsole console)
    {
        var paths = new List<string>();
        {
            string text;
            if (list == CommonOptions.Stdout)
            {
                text = console.In.ReadToEnd();
            }
            else if (Directory.Exists(list))
            {
                throw new UsageException($"--from-file: '{list}' is a directory; give a file listing one input path per line.");
            }
            else if (!File.Exists(list))
            {
                throw new UsageException($"--from-file: the list '{list}' does not exist.");
            }
            else
            {
                text = File.ReadAllText(list);
            }
            char separator = text.Contains('\0', StringComparison.Ordinal) ? '\0' : '\n';
            foreach (string line in text.Split(separator))
            {
                string path = separator == '\n' ? line.TrimEnd('\r') : line;
                if (path.Trim().Length > 0)
                {
                    paths.Add(path);
                }
            }
        }
        return paths;
    }
}
