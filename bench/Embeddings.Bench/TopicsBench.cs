namespace Embeddings.Bench;

internal static class TopicsBench
{
    public static int Run(string[] args) => 0;
}
