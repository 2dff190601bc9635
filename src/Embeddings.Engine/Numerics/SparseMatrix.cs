using System.Numerics.Tensors;

namespace Embeddings.Numerics;

/// <summary>
/// A read-only CSR matrix of floats (rows = documents, columns = terms) with the two products the
/// randomised SVD needs, written for speed: rows are independent, so both products run in parallel
/// without locks (the transposed product walks a CSC copy built once).
/// </summary>
internal sealed class SparseMatrix
{
    private int[]? _columnStart;
    private int[]? _columnRows;
    private float[]? _columnValues;

    public SparseMatrix(int rows, int columns, int[] rowStart, int[] columnIndex, float[] values)
    {
        if (rowStart.Length != rows + 1 || columnIndex.Length != values.Length || rowStart[rows] != values.Length)
        {
            throw new ArgumentException("inconsistent CSR arrays");
        }
        Rows = rows;
        Columns = columns;
        RowStart = rowStart;
        ColumnIndex = columnIndex;
        Values = values;
    }

    public int Rows { get; }

    public int Columns { get; }

    public int[] RowStart { get; }

    public int[] ColumnIndex { get; }

    public float[] Values { get; }

    /// <summary>Builds a CSR matrix from dense rows (tests).</summary>
    public static SparseMatrix FromDense(float[,] dense)
    {
        int rows = dense.GetLength(0), cols = dense.GetLength(1);
        var start = new int[rows + 1];
        var ci = new List<int>();
        var v = new List<float>();
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                if (dense[i, j] != 0)
                {
                    ci.Add(j);
                    v.Add(dense[i, j]);
                }
            }
            start[i + 1] = ci.Count;
        }
        return new SparseMatrix(rows, cols, start, [.. ci], [.. v]);
    }

    /// <summary>
    /// W = Xᵀ X Q for a dense row-major Q (Columns x width), computed in row blocks so the intermediate
    /// X Q never needs more than one block of memory.
    /// </summary>
    public float[] GramTimes(float[] q, int width, CancellationToken cancellationToken)
    {
        EnsureTranspose();
        const int BlockRows = 32_768;
        var w = new float[(long)Columns * width];
        var z = new float[(long)Math.Min(BlockRows, Math.Max(Rows, 1)) * width];
        var cursor = new int[Columns];
        Array.Copy(_columnStart!, cursor, Columns);
        var parallel = new ParallelOptions { CancellationToken = cancellationToken };
        for (int b0 = 0; b0 < Rows; b0 += BlockRows)
        {
            int b1 = Math.Min(Rows, b0 + BlockRows);
            int blockStart = b0;
            // Z = X[b0..b1) Q: each row a sparse combination of Q's rows.
            Parallel.For(b0, b1, parallel, i =>
            {
                Span<float> zi = z.AsSpan((i - blockStart) * width, width);
                zi.Clear();
                for (int p = RowStart[i]; p < RowStart[i + 1]; p++)
                {
                    TensorPrimitives.MultiplyAdd(q.AsSpan(ColumnIndex[p] * width, width), Values[p], zi, zi);
                }
            });
            // W += X[b0..b1)ᵀ Z: each column owns its output row, entries of the block are contiguous in CSC.
            Parallel.For(0, Columns, parallel, j =>
            {
                Span<float> wj = w.AsSpan(j * width, width);
                int p = cursor[j];
                int end = _columnStart![j + 1];
                while (p < end && _columnRows![p] < b1)
                {
                    TensorPrimitives.MultiplyAdd(z.AsSpan((_columnRows[p] - blockStart) * width, width), _columnValues![p], wj, wj);
                    p++;
                }
                cursor[j] = p;
            });
        }
        return w;
    }

    private void EnsureTranspose()
    {
        if (_columnStart is not null)
        {
            return;
        }
        var start = new int[Columns + 1];
        foreach (int c in ColumnIndex)
        {
            start[c + 1]++;
        }
        for (int j = 0; j < Columns; j++)
        {
            start[j + 1] += start[j];
        }
        var fill = (int[])start.Clone();
        var rows = new int[Values.Length];
        var values = new float[Values.Length];
        for (int i = 0; i < Rows; i++)
        {
            for (int p = RowStart[i]; p < RowStart[i + 1]; p++)
            {
                int at = fill[ColumnIndex[p]]++;
                rows[at] = i;
                values[at] = Values[p];
            }
        }
        _columnStart = start;
        _columnRows = rows;
        _columnValues = values;
    }
}
