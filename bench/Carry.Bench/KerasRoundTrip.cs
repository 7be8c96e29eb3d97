using Carry.Arithmetic;
using Carry.Serialization;

namespace Carry.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/Carry.Bench -- keras-roundtrip ADDER.carry BACK.carry</c>:
/// the 65,536 sums of an 8-bit concat adder before <c>carry export -o x.h5</c> and after
/// <c>carry import keras x.h5</c>, counted alike (and the largest output difference). Exit 1 unless all agree.
/// </summary>
internal static class KerasRoundTrip
{
    public static int Run(string[] args)
    {
        var original = ModelFile.Load<float>(args[0]);
        var back = ModelFile.Load<float>(args[1]).Model;
        int bits = original.Metadata.Task?.Bits ?? 8;
        var before = AllPairsInference.Predict(original.Model, bits);
        var after = AllPairsInference.Predict(back, bits);
        int outputs = before.Dim(1), same = 0, pairs = before.Dim(0);
        double worst = 0;
        for (int i = 0; i < pairs; i++)
        {
            var a = before.Span.Slice(i * outputs, outputs);
            var b = after.Span.Slice(i * outputs, outputs);
            if (ConcatEncoding.Decode<float>(a) == ConcatEncoding.Decode<float>(b)) same++;
            for (int j = 0; j < outputs; j++) worst = Math.Max(worst, Math.Abs(a[j] - b[j]));
        }
        Console.WriteLine(FormattableString.Invariant($"{same:N0} of {pairs:N0} sums the same after export and import; largest output difference {worst:0.00e+00}"));
        return same == pairs ? 0 : 1;
    }
}
