using System.Numerics;

namespace Carry.Arithmetic;

/// <summary>
/// What the numpy Elman adder did over one print interval of <see cref="IamtraskPreset.Train{T}"/>
/// (one row of its history: <c>iteration,loss,exact,bit_accuracy</c>).
/// </summary>
/// <param name="Iteration">Iterations done at the interval's end (1,000, 2,000, …; the last one may be shorter).</param>
/// <param name="Loss">Mean training loss (half the sum of squared errors) of the interval's samples.</param>
/// <param name="Exact">Fraction of the interval's samples whose every bit, rounded as numpy rounds, was right.</param>
/// <param name="BitAccuracy">Fraction of the interval's bits that were right.</param>
public sealed record IamtraskInterval(int Iteration, double Loss, double Exact, double BitAccuracy)
{
    /// <summary>The history CSV's columns, in order.</summary>
    public static IReadOnlyList<string> Columns { get; } = ["iteration", "loss", "exact", "bit_accuracy"];

    /// <summary>The row's values in <see cref="Columns"/> order.</summary>
    public double[] Values => [Iteration, Loss, Exact, BitAccuracy];
}

/// <summary>Sums over the samples of one print interval, turned into an <see cref="IamtraskInterval"/> at its end.</summary>
internal sealed class IamtraskTally
{
    private double _loss;
    private long _exact, _bitsRight, _bits;

    /// <summary>Samples added since the last <see cref="Take"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Adds one sample: its loss and its outputs against its target bits (one per step).</summary>
    public void Add<T>(double loss, ReadOnlySpan<T> output, ReadOnlySpan<T> target) where T : IFloatingPointIeee754<T>
    {
        int right = 0;
        for (int t = 0; t < output.Length; t++)
        {
            // np.round rounds half to even, as the printout's Pred does.
            bool bit = Math.Round(double.CreateChecked(output[t]), MidpointRounding.ToEven) >= 1;
            if (bit == target[t] > T.Zero) right++;
        }
        _loss += loss;
        _bitsRight += right;
        _bits += output.Length;
        if (right == output.Length) _exact++;
        Count++;
    }

    /// <summary>The interval ending after <paramref name="iteration"/> iterations; starts the next one.</summary>
    public IamtraskInterval Take(int iteration)
    {
        var row = new IamtraskInterval(iteration, _loss / Count, (double)_exact / Count, (double)_bitsRight / _bits);
        (_loss, _exact, _bitsRight, _bits, Count) = (0, 0, 0, 0, 0);
        return row;
    }
}
