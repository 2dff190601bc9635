using Embeddings.Corpus;
using Embeddings.Numerics;

namespace Embeddings.Tests.Topics;

/// <summary>Seeded synthetic data: Gaussian blobs on the unit sphere and papers whose words follow the blob.</summary>
internal static class Synthetic
{
    public static (float[] Vectors, int[] Labels) Blobs(int perCluster, int clusters, int dim, float noise, int seed, int? outliers = 0)
    {
        int n = perCluster * clusters + (outliers ?? 0);
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i < perCluster * clusters ? i % clusters : -1;
        }
        return (BlobsFor(labels, clusters, dim, noise, seed, seed), labels);
    }

    /// <summary>Points for given labels; centres depend only on <paramref name="centerSeed"/> (same centres across dumps).</summary>
    public static float[] BlobsFor(int[] labels, int clusters, int dim, float noise, int centerSeed, int pointSeed)
    {
        var rng = new Random(centerSeed);
        var centers = new float[clusters * dim];
        for (int i = 0; i < centers.Length; i++)
        {
            centers[i] = Gauss(rng);
        }
        if (pointSeed != centerSeed)
        {
            rng = new Random(pointSeed);
        }
        int n = labels.Length;
        var v = new float[n * dim];
        for (int i = 0; i < n; i++)
        {
            int c = labels[i];
            for (int j = 0; j < dim; j++)
            {
                v[i * dim + j] = c >= 0 ? centers[c * dim + j] / MathF.Sqrt(dim) * 3f + noise * Gauss(rng) / MathF.Sqrt(dim) : Gauss(rng);
            }
            VectorMath.Normalize(v.AsSpan(i * dim, dim));
        }
        return v;
    }

    private static readonly string[][] Vocab =
    [
        ["graph", "neural", "molecule", "message", "passing", "node", "edge", "chemistry"],
        ["protein", "folding", "structure", "residue", "sequence", "alignment", "amino", "enzyme"],
        ["language", "model", "token", "prompt", "instruction", "reasoning", "decoder", "llm"],
        ["robot", "control", "policy", "locomotion", "manipulation", "grasp", "actuator", "motion"],
        ["image", "diffusion", "denoising", "pixel", "generation", "texture", "render", "latent"],
        ["quantum", "qubit", "circuit", "entanglement", "gate", "noise", "error", "superconducting"],
    ];

    private static readonly string[] Common = ["data", "learning", "training", "system", "analysis", "framework", "evaluation"];

    /// <summary>Papers whose text uses the vocabulary of their blob (labels &lt; 0 get mixed words).</summary>
    public static Paper[] Papers(int[] labels, int seed, string prefix = "p")
    {
        var rng = new Random(seed);
        var papers = new Paper[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            int c = labels[i];
            var words = new List<string>();
            for (int w = 0; w < 30; w++)
            {
                var vocab = c >= 0 && rng.NextDouble() < 0.6 ? Vocab[c % Vocab.Length] : rng.NextDouble() < 0.5 ? Common : Vocab[rng.Next(Vocab.Length)];
                words.Add(vocab[rng.Next(vocab.Length)]);
            }
            string title = string.Join(' ', words.Take(5));
            string abs = string.Join(' ', words.Skip(5)) + ". Second sentence here.";
            papers[i] = new Paper($"{prefix}{i:D5}", title, abs);
        }
        return papers;
    }

    private static float Gauss(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
