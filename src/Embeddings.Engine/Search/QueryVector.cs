using System.Numerics.Tensors;
using Embeddings.Numerics;

namespace Embeddings.Search;

/// <summary>
/// The query vector of a similar-paper query, by Rocchio: the centre of the liked vectors (the query paper, the liked
/// papers, the embedded free text), minus <see cref="SearchDefaults.UnlikeWeight"/> times the centre of the unliked
/// ones, normalised. One implementation for every search (the store's and the database's), so both rank alike.
/// </summary>
internal sealed class QueryVector
{
    private readonly float[] _like;
    private float[]? _unlike;
    private int _likes;
    private int _unlikes;

    public QueryVector(int dimension)
    {
        _like = new float[dimension];
    }

    /// <summary>
    /// The query vector of liked and unliked vectors as <paramref name="ranking"/> says, the one choice the search and the
    /// evaluation make: the request's <see cref="LikeClassifier"/> (trained against <paramref name="background"/>, read only
    /// then), or Rocchio, which is also the answer when nothing is liked or there are no negatives to train against.
    /// </summary>
    public static float[] FromExamples(LikeRanking ranking, IReadOnlyList<float[]> liked, IReadOnlyList<float[]> unliked,
        Func<IReadOnlyList<float[]>> background, int dimension)
    {
        ArgumentNullException.ThrowIfNull(liked);
        ArgumentNullException.ThrowIfNull(unliked);
        ArgumentNullException.ThrowIfNull(background);
        if (ranking == LikeRanking.Classifier && liked.Count > 0)
        {
            IReadOnlyList<float[]> others = background();
            if (unliked.Count + others.Count > 0)
            {
                return LikeClassifier.Train(liked, unliked, others, dimension);
            }
        }
        var vector = new QueryVector(dimension);
        foreach (float[] v in liked)
        {
            vector.AddLike(v);
        }
        foreach (float[] v in unliked)
        {
            vector.AddUnlike(v);
        }
        return vector.Build();
    }

    /// <summary>Adds the vector of a liked paper or of the query text.</summary>
    public void AddLike(ReadOnlySpan<float> vector)
    {
        TensorPrimitives.Add(_like, vector, _like);
        _likes++;
    }

    /// <summary>Adds the vector of a paper the hits should not resemble.</summary>
    public void AddUnlike(ReadOnlySpan<float> vector)
    {
        _unlike ??= new float[_like.Length];
        TensorPrimitives.Add(_unlike, vector, _unlike);
        _unlikes++;
    }

    /// <summary>The combined unit vector (all zeros when the parts cancel out).</summary>
    public float[] Build()
    {
        float[] vector = (float[])_like.Clone();
        if (_likes > 1)
        {
            TensorPrimitives.Divide(vector, _likes, vector);
        }
        if (_unlike is not null)
        {
            TensorPrimitives.MultiplyAdd(_unlike, -SearchDefaults.UnlikeWeight / _unlikes, vector, vector);
        }
        VectorMath.Normalize(vector);
        return vector;
    }
}
