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
