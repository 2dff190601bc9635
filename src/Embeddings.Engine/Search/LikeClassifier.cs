using Embeddings.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Embeddings.Search;

/// <summary>
/// The per-request linear classifier of a like/unlike query, as arxiv-sanity ranks a tag: a linear SVM (ML.NET's
/// <see cref="SdcaNonCalibratedBinaryTrainer"/> with the hinge loss) trained on the liked vectors as positives against the unliked ones and a
/// background of other stored papers as negatives, each class weighing the same. Stored vectors are unit length, so
/// ranking by the decision value w.x + b is ranking by cosine with w/|w|: the normalised weights are the query vector,
/// and the HNSW and exact indexes answer it like any other.
/// </summary>
internal static class LikeClassifier
{
    /// <summary>Share of the negative class's weight carried by the unliked papers (the rest by the background).</summary>
    internal const float UnlikedShare = 0.5f;

    /// <summary>L2 regularisation: strong, as 5 liked papers ask (0.001 scored 5 points lower, 0.1 about the same; QUALITY.md).</summary>
    internal const float L2Regularization = 0.01f;

    /// <summary>The most background papers a request trains on (a deterministic stride over the live rows).</summary>
    internal const int MaxBackground = 4096;

    /// <summary>The most SDCA passes over the training set.</summary>
    internal const int Iterations = 20;

    private sealed class Example
    {
        public bool Label { get; set; }

        public float Weight { get; set; }

        public float[] Features { get; set; } = [];
    }

    /// <summary>
    /// The unit weight vector of a linear SVM separating <paramref name="liked"/> from <paramref name="unliked"/> and
    /// <paramref name="background"/> (all of dimension <paramref name="dimension"/>); deterministic for a given input.
    /// </summary>
    public static float[] Train(IReadOnlyList<float[]> liked, IReadOnlyList<float[]> unliked, IReadOnlyList<float[]> background, int dimension)
    {
        ArgumentNullException.ThrowIfNull(liked);
        ArgumentNullException.ThrowIfNull(unliked);
        ArgumentNullException.ThrowIfNull(background);
        if (liked.Count == 0 || unliked.Count + background.Count == 0)
        {
            throw new ArgumentException("A like classifier needs at least one liked and one other paper.");
        }
        // Each class weighs as many examples as there are in all, so the regulariser sees the usual scale.
        float total = liked.Count + unliked.Count + background.Count;
        float negativeWeight = total / 2;
        float unlikedShare = background.Count == 0 ? 1 : unliked.Count == 0 ? 0 : UnlikedShare;
        var examples = new List<Example>(liked.Count + unliked.Count + background.Count);
        foreach (float[] v in liked)
        {
            examples.Add(new Example { Label = true, Weight = total / 2 / liked.Count, Features = v });
        }
        foreach (float[] v in unliked)
        {
            examples.Add(new Example { Label = false, Weight = negativeWeight * unlikedShare / unliked.Count, Features = v });
        }
        foreach (float[] v in background)
        {
            examples.Add(new Example { Label = false, Weight = negativeWeight * (1 - unlikedShare) / background.Count, Features = v });
        }

        var ml = new MLContext(seed: 0);
        SchemaDefinition schema = SchemaDefinition.Create(typeof(Example));
        schema[nameof(Example.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        IDataView data = ml.Data.LoadFromEnumerable(examples, schema);
        // SDCA on the hinge loss: a linear SVM solved in the dual, which copes with the few heavily weighted positives
        // where Pegasos (LinearSvmTrainer) scored 5-15 points lower on the dev task (QUALITY.md). One thread: deterministic.
        LinearBinaryModelParameters model = ml.BinaryClassification.Trainers.SdcaNonCalibrated(new SdcaNonCalibratedBinaryTrainer.Options
        {
            LabelColumnName = nameof(Example.Label),
            FeatureColumnName = nameof(Example.Features),
            ExampleWeightColumnName = nameof(Example.Weight),
            LossFunction = new HingeLoss(),
            L2Regularization = L2Regularization,
            L1Regularization = 0,
            MaximumNumberOfIterations = Iterations,
            NumberOfThreads = 1,
        }).Fit(data).Model;
        var weights = new float[dimension];
        int i = 0;
        foreach (float w in model.Weights)
        {
            weights[i++] = w;
        }
        VectorMath.Normalize(weights);
        return weights;
    }

    /// <summary>
    /// The background of a request: at most <see cref="MaxBackground"/> live rows not in <paramref name="excluded"/>,
    /// evenly spaced over the store (deterministic, so a request always trains on the same papers).
    /// </summary>
    public static List<int> BackgroundRows(bool[] live, int liveCount, Func<int, bool> excluded)
    {
        ArgumentNullException.ThrowIfNull(live);
        ArgumentNullException.ThrowIfNull(excluded);
        int stride = Math.Max(1, (liveCount + MaxBackground - 1) / MaxBackground);
        var rows = new List<int>(Math.Min(liveCount, MaxBackground));
        int seen = 0;
        for (int row = 0; row < live.Length && rows.Count < MaxBackground; row++)
        {
            if (live[row] && seen++ % stride == 0 && !excluded(row))
            {
                rows.Add(row);
            }
        }
        return rows;
    }
}
