using System.Numerics;

namespace Carry.Training;

/// <summary>
/// How many samples and bits a model's outputs got right against targets, each output read as a
/// bit at 0.5: the one scorer behind every exact-match and bit-accuracy figure in Carry.
/// </summary>
/// <param name="Samples">Samples scored.</param>
/// <param name="ExactSamples">Samples whose every output bit is right.</param>
/// <param name="BitsRight">Output bits that are right.</param>
/// <param name="BitsPerSample">Outputs per sample.</param>
public readonly record struct BitScore(long Samples, long ExactSamples, long BitsRight, int BitsPerSample)
{
    /// <summary>Fraction of samples exactly right, 0 to 1.</summary>
    public double Exact => Samples == 0 ? 0 : (double)ExactSamples / Samples;

    /// <summary>Fraction of output bits right, 0 to 1.</summary>
    public double BitAccuracy => Samples == 0 ? 0 : (double)BitsRight / (Samples * BitsPerSample);

    /// <summary>Both scores added up (batches of one evaluation).</summary>
    public static BitScore operator +(BitScore a, BitScore b) =>
        new(a.Samples + b.Samples, a.ExactSamples + b.ExactSamples, a.BitsRight + b.BitsRight, Math.Max(a.BitsPerSample, b.BitsPerSample));

    /// <summary>Scores <paramref name="outputs"/> against <paramref name="targets"/>, <paramref name="perSample"/> values per sample, both read as bits at 0.5.</summary>
    public static BitScore Of<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, int perSample) where T : IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSample);
        if (outputs.Length != targets.Length || outputs.Length % perSample != 0)
        {
            throw new ArgumentException($"{outputs.Length} outputs and {targets.Length} targets do not make whole samples of {perSample}.", nameof(targets));
        }
        T half = T.CreateChecked(0.5);
        long n = outputs.Length / perSample, exact = 0, right = 0;
        for (int i = 0; i < n; i++)
        {
            int sampleRight = 0;
            for (int k = 0; k < perSample; k++)
            {
                int j = (i * perSample) + k;
                if ((outputs[j] >= half) == (targets[j] >= half)) sampleRight++;
            }
            right += sampleRight;
            if (sampleRight == perSample) exact++;
        }
        return new BitScore(n, exact, right, perSample);
    }
}
