using System.Text;

namespace Embeddings.Corpus;

/// <summary>
/// RFC 4180 record splitter fed line by line: comma separated, fields optionally in double quotes,
/// <c>""</c> for a quote inside a quoted field, line breaks allowed inside quoted fields.
/// Lenient where RFC 4180 is silent: a quote inside an unquoted field is kept as a character.
/// </summary>
internal sealed class CsvRecordParser
{
    private readonly List<string> _fields = [];
    private readonly StringBuilder _field = new();
    private bool _inQuotes;
    private bool _fieldStarted;

    /// <summary>Whether a quoted field is open across lines.</summary>
    public bool InRecord => _inQuotes;

    /// <summary>The 0-based index of the field being read (the one whose quote is open, inside a record).</summary>
    public int FieldCount => _fields.Count;

    /// <summary>Adds one line; true when it completes a record.</summary>
    public bool Feed(string line)
    {
        if (_inQuotes)
        {
            _field.Append('\n');
        }
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (_inQuotes)
            {
                if (c == '"')
                {
                    if (i + 1 < line.Length && line[i + 1] == '"')
                    {
                        _field.Append('"');
                        i++;
                    }
                    else
                    {
                        _inQuotes = false;
                    }
                }
                else
                {
                    _field.Append(c);
                }
            }
            else if (c == ',')
            {
                EndField();
            }
            else if (c == '"' && !_fieldStarted)
            {
                _inQuotes = true;
                _fieldStarted = true;
            }
            else
            {
                _field.Append(c);
                _fieldStarted = true;
            }
        }
        if (_inQuotes)
        {
            return false;
        }
        EndField();
        return true;
    }

    /// <summary>The fields of the completed record; the parser is ready for the next one.</summary>
    public List<string> TakeFields()
    {
        var result = new List<string>(_fields);
        _fields.Clear();
        return result;
    }

    /// <summary>Drops a partly read record.</summary>
    public void Reset()
    {
        _fields.Clear();
        _field.Clear();
        _inQuotes = false;
        _fieldStarted = false;
    }

    private void EndField()
    {
        _fields.Add(_field.ToString());
        _field.Clear();
        _fieldStarted = false;
    }
}
