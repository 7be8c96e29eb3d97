using System.Globalization;
using Carry.Interop;
using Carry.Numerics;

namespace Carry.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/Carry.Bench -- keras-addition FILE.h5 [N]</c>: Keras's
/// addition_rnn example model, imported, asked N random sums as the example asks them (operands of
/// 1 to 4 random digits, <c>"a+b"</c> padded with spaces to 9 characters and reversed, one-hot over
/// <c>sorted("0123456789+ ")</c>; the answer read as the argmax of each of the 5 output steps).
/// Prints how many it gets right.
/// </summary>
internal static class KerasAddition
{
    private const string Chars = " +0123456789"; // sorted('0123456789+ ')
    private const int Digits = 4, QueryLength = (2 * Digits) + 1, AnswerLength = Digits + 1;

    public static int Run(string[] args)
    {
        var model = KerasImport.Load(args[0]).Model;
        int n = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
        var random = new RandomGenerator(1);
        var input = new Tensor<float>(n, QueryLength, Chars.Length);
        var sums = new int[n];
        for (int i = 0; i < n; i++)
        {
            int a = Operand(random), b = Operand(random);
            sums[i] = a + b;
            string query = $"{a}+{b}".PadRight(QueryLength);
            for (int t = 0; t < QueryLength; t++) input[i, t, Chars.IndexOf(query[QueryLength - 1 - t], StringComparison.Ordinal)] = 1f; // reversed, as the example feeds it
        }
        var output = model.Predict(input); // [n, 5, 12]
        int right = 0;
        for (int i = 0; i < n; i++)
        {
            var answer = new char[AnswerLength];
            for (int t = 0; t < AnswerLength; t++)
            {
                int best = 0;
                for (int c = 1; c < Chars.Length; c++) if (output[i, t, c] > output[i, t, best]) best = c;
                answer[t] = Chars[best];
            }
            if (new string(answer) == sums[i].ToString(CultureInfo.InvariantCulture).PadRight(AnswerLength)) right++;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{right} of {n} sums right ({100.0 * right / n:F1}%)"));
        return 0;
    }

    /// <summary>1 to 4 random decimal digits, as the example draws them.</summary>
    private static int Operand(RandomGenerator random)
    {
        int digits = 1 + (int)(random.NextDouble() * Digits), value = 0;
        for (int d = 0; d < digits; d++) value = (10 * value) + (int)(random.NextDouble() * 10);
        return value;
    }
}
