using System.Globalization;

namespace Embeddings.Bench;

/// <summary>
/// What every benchmark asks of its surroundings, in one place: its flags, the repository root (inputs and
/// results are named from it) and the machine's load average, which BENCHMARKS.md states beside each figure.
/// </summary>
internal static class BenchHost
{
    /// <summary>The value after flag <paramref name="name"/>, or null when the flag is not given.</summary>
    public static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>The whole number after flag <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public static int IntArg(string[] args, string name, int fallback) =>
        Arg(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The folder holding Embeddings.sln above the running program (else the current folder).</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Embeddings.sln")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }

    /// <summary>The one-minute load average; NaN where /proc/loadavg cannot be read.</summary>
    public static double LoadAverage() =>
        LoadFields() is { } fields ? double.Parse(fields[0], CultureInfo.InvariantCulture) : double.NaN;

    /// <summary>The one-, five- and fifteen-minute load averages as "1.23 0.98 0.75"; "n/a" where unknown.</summary>
    public static string LoadAverages() => LoadFields() is { } fields ? string.Join(' ', fields[..3]) : "n/a";

    private static string[]? LoadFields()
    {
        try
        {
            string[] fields = File.ReadAllText("/proc/loadavg").Split(' ');
            return fields.Length >= 3 ? fields : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
