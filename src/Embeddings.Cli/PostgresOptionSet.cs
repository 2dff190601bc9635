using System.CommandLine;
using Embeddings.Postgres;

namespace Embeddings.Cli;

/// <summary>
/// The PostgreSQL options of <c>sync</c> and <c>similar</c>, declared once: <c>--postgres CONN</c>, <c>--table NAME</c>
/// (default <c>papers</c>) and <c>--shards CONN1,CONN2</c>, whose meaning each command describes.
/// </summary>
internal sealed class PostgresOptionSet
{
    public PostgresOptionSet(bool required, string connectionDescription, string shardsDescription)
    {
        Connection = new Option<string?>("--postgres")
        {
            Description = connectionDescription + " Host=H;Port=P;Database=D;Username=U[;Password=W] or postgresql://U:W@H:P/D.",
            Required = required,
        };
        Shards = new Option<string?>("--shards") { Description = shardsDescription };
    }

    public Option<string?> Connection { get; }

    public Option<string> Table { get; } = new("--table") { Description = "Table name (NAME or SCHEMA.NAME).", DefaultValueFactory = _ => "papers" };

    public Option<string?> Shards { get; }

    public void AddTo(Command command)
    {
        command.Add(Connection);
        command.Add(Table);
        command.Add(Shards);
    }

    /// <summary>The table to answer from, when <c>--postgres</c> was given; null otherwise.</summary>
    public PostgresLibraryOptions? LibraryOptions(ParseResult parse) => parse.GetValue(Connection) is { } connection
        ? new PostgresLibraryOptions { ConnectionString = connection, Table = parse.GetValue(Table)!, Shards = ShardsOf(parse) }
        : null;

    public IReadOnlyList<string> ShardsOf(ParseResult parse) =>
        parse.GetValue(Shards) is { } value ? value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
}
