using Embeddings.Cli;

namespace Embeddings.Tests.Support;

/// <summary>Runs the CLI in-process with stdout and stderr captured.</summary>
internal static class CliHarness
{
    public static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        TextWriter oldOut = Console.Out, oldErr = Console.Error;
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            int exit = await Program.BuildRoot().Parse(args).InvokeAsync();
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}

/// <summary>Tests that redirect Console.Out/Error (through <see cref="CliHarness"/>) must not run in parallel with each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}
