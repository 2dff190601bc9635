using System.Text.RegularExpressions;
using Npgsql;
using Pgvector.Npgsql;

namespace Embeddings.Postgres;

/// <summary>A PostgreSQL error (unreachable server, missing extension, refused login, failed statement).</summary>
public sealed class PostgresBackendException : EmbeddingsException
{
    /// <inheritdoc cref="EmbeddingsException(string)"/>
    public PostgresBackendException(string message) : base(message) { }

    /// <inheritdoc cref="EmbeddingsException(string, Exception)"/>
    public PostgresBackendException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// Connection strings and data sources: accepts Npgsql's <c>Host=...;Database=...</c> form and libpq URIs
/// (<c>postgresql://user:password@host:port/database</c>), registers the pgvector type, and turns driver errors into
/// one-line <see cref="PostgresBackendException"/>s that name the server.
/// </summary>
internal static partial class PostgresConnection
{
    /// <summary>An Npgsql connection string builder for <paramref name="connection"/> (either form).</summary>
    public static NpgsqlConnectionStringBuilder Parse(string connection)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connection);
        try
        {
            return connection.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
                || connection.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
                ? FromUri(connection)
                : new NpgsqlConnectionStringBuilder(connection);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException)
        {
            throw new PostgresBackendException(
                $"'{Redact(connection)}' is not a PostgreSQL connection string ({e.Message}); use Host=H;Port=P;Database=D;Username=U or postgresql://U@H:P/D.");
        }
    }

    /// <summary>A data source (connection pool) with the pgvector type mapping.</summary>
    public static NpgsqlDataSource Open(NpgsqlConnectionStringBuilder builder)
    {
        var sourceBuilder = new NpgsqlDataSourceBuilder(builder.ConnectionString);
        sourceBuilder.UseVector();
        return sourceBuilder.Build();
    }

    /// <summary>"host:port/database" of a connection, for messages (never the password).</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder) =>
        $"{builder.Host ?? "localhost"}:{builder.Port}/{builder.Database ?? builder.Username ?? "postgres"}";

    /// <summary>Runs <paramref name="body"/>, turning driver errors into <see cref="PostgresBackendException"/>.</summary>
    public static async Task<T> Guard<T>(NpgsqlConnectionStringBuilder server, Func<Task<T>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            throw Translate(server, e);
        }
    }

    /// <summary>
    /// A driver error as a one-line <see cref="PostgresBackendException"/> naming the server and what to do: an error the
    /// server reported (with its hint), or a connection that could not be made or was lost (refused, unknown host,
    /// timeout, TLS, reset).
    /// </summary>
    public static PostgresBackendException Translate(NpgsqlConnectionStringBuilder server, NpgsqlException e)
    {
        if (e is PostgresException reported)
        {
            return new PostgresBackendException(
                $"PostgreSQL at {Describe(server)}: {reported.MessageText}" + (reported.Hint is { Length: > 0 } hint ? $" ({hint})" : "") + Advice(reported), e);
        }
        string detail = e.InnerException is { Message: { Length: > 0 } inner } && !e.Message.Contains(inner, StringComparison.Ordinal)
            ? $"{e.Message.TrimEnd('.')} ({inner.TrimEnd('.')})"
            : e.Message.TrimEnd('.');
        return new PostgresBackendException(
            $"cannot connect to PostgreSQL at {Describe(server)}: {detail}; check that the server runs and accepts connections there, and the connection string (--postgres).", e);
    }

    /// <inheritdoc cref="Guard{T}(NpgsqlConnectionStringBuilder, Func{Task{T}})"/>
    public static Task Guard(NpgsqlConnectionStringBuilder server, Func<Task> body) =>
        Guard(server, async () =>
        {
            await body().ConfigureAwait(false);
            return true;
        });

    private static string Advice(PostgresException e) => e.SqlState switch
    {
        "0A000" or "58P01" when e.MessageText.Contains("vector", StringComparison.Ordinal) =>
            ". Install pgvector on that server (scripts/setup-postgres.sh does it on Debian)",
        PostgresErrorCodes.InsufficientPrivilege => ". Connect as a user that may create tables and extensions, or create them once as a superuser",
        PostgresErrorCodes.InvalidCatalogName => ". Create the database first (createdb)",
        PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification =>
            ". Check the user and password of the connection string (--postgres)",
        _ => "",
    };

    private static NpgsqlConnectionStringBuilder FromUri(string text)
    {
        var uri = new Uri(text);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Length > 0 ? uri.Host : "localhost",
            Port = uri.Port > 0 ? uri.Port : 5432,
        };
        if (uri.UserInfo.Length > 0)
        {
            string[] parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(parts[1]);
            }
        }
        string database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }
        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            string key = Uri.UnescapeDataString(kv[0]);
            string value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            builder[key switch
            {
                "sslmode" => "SSL Mode",
                "connect_timeout" => "Timeout",
                "application_name" => "Application Name",
                _ => key,
            }] = value;
        }
        return builder;
    }

    /// <summary>The connection string with any password replaced, for error messages.</summary>
    public static string Redact(string connection) => PasswordPattern().Replace(UriPasswordPattern().Replace(connection, "$1:***@"), "$1=***");

    [GeneratedRegex(@"(?i)\b(password|pwd)\s*=\s*[^;]*")]
    private static partial Regex PasswordPattern();

    [GeneratedRegex(@"(://[^:/@]+):[^@]*@")]
    private static partial Regex UriPasswordPattern();
}

/// <summary>A table name, validated so it can be quoted into SQL: <c>name</c> or <c>schema.name</c>, lower-case identifiers.</summary>
internal sealed partial record TableName
{
    private TableName(string schema, string name)
    {
        Schema = schema;
        Name = name;
    }

    /// <summary>Schema, "public" unless given.</summary>
    public string Schema { get; }

    /// <summary>Unqualified name.</summary>
    public string Name { get; }

    /// <summary>The quoted, schema-qualified name for SQL.</summary>
    public string Sql => $"\"{Schema}\".\"{Name}\"";

    /// <summary>The name as the user wrote it (schema omitted when public).</summary>
    public string Display => Schema == "public" ? Name : $"{Schema}.{Name}";

    /// <summary>The quoted name of a related object (index, server), derived from the table name.</summary>
    public string Related(string suffix) => $"\"{Name}_{suffix}\"";

    /// <summary>Parses <c>[schema.]name</c>; throws <see cref="ArgumentException"/> with the rule.</summary>
    public static TableName Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        string[] parts = text.Split('.');
        if (parts.Length > 2 || parts.Any(p => !Identifier().IsMatch(p)))
        {
            throw new ArgumentException($"table '{text}' must be NAME or SCHEMA.NAME of lower-case letters, digits and _ (at most 40 characters each), starting with a letter or _.");
        }
        return parts.Length == 2 ? new TableName(parts[0], parts[1]) : new TableName("public", parts[0]);
    }

    /// <summary>The table as it is named on a remote server (postgres_fdw schema_name/table_name).</summary>
    public static TableName Remote(string schema, string name) => new(schema, name);

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,39}$")]
    private static partial Regex Identifier();
}
