using System.Text;
using System.Text.Json;

namespace Embeddings.Tests.Tokenization;

/// <summary>Compares id lists against a golden file and, on mismatch, writes every difference to a report file.</summary>
internal sealed class GoldenCheck(string name)
{
    private readonly StringBuilder _report = new();
    private int _checked;
    private int _failed;
    private string? _first;

    public void Compare(string caseId, string text, IReadOnlyList<int> expected, IReadOnlyList<int> actual)
    {
        _checked++;
        int diff = FirstDifference(expected, actual);
        if (diff < 0)
        {
            return;
        }
        _failed++;
        string line = $"{caseId}: first difference at position {diff}: expected {At(expected, diff)}, got {At(actual, diff)} " +
                      $"(lengths {expected.Count} vs {actual.Count})";
        _first ??= line;
        _report.AppendLine(line)
            .Append("  text:     ").AppendLine(JsonSerializer.Serialize(text))
            .Append("  expected: ").AppendLine(string.Join(' ', expected))
            .Append("  actual:   ").AppendLine(string.Join(' ', actual));
    }

    /// <summary>Fails with the first difference and the report path; returns the number of lines checked.</summary>
    public int AssertAllMatched()
    {
        if (_failed == 0)
        {
            return _checked;
        }
        string dir = Path.Combine(AppContext.BaseDirectory, "golden-mismatches");
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, name + ".txt");
        File.WriteAllText(file, _report.ToString());
        Assert.Fail($"{name}: {_failed} of {_checked} golden cases differ. First: {_first}. All differences: {file}");
        return _checked;
    }

    private static int FirstDifference(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        int n = Math.Min(a.Count, b.Count);
        for (int i = 0; i < n; i++)
        {
            if (a[i] != b[i])
            {
                return i;
            }
        }
        return a.Count == b.Count ? -1 : n;
    }

    private static string At(IReadOnlyList<int> ids, int i) => i < ids.Count ? ids[i].ToString(System.Globalization.CultureInfo.InvariantCulture) : "(end)";
}
