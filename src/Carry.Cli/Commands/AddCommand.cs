using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Text;
using Carry.Arithmetic;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry add --model FILE A B</c>: a trained model adds two non-negative integers of any size
/// (aligned models) or of its trained width (concat models). Prints the model's sum.
/// </summary>
public static class AddCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The trained .carry model", Required = true };
        var showBits = new Option<bool>("--show-bits") { Description = "Also print the operands and the sum as bit vectors, most significant first" };
        var first = new Argument<string>("A") { Description = "First operand, a non-negative decimal integer" };
        var second = new Argument<string>("B") { Description = "Second operand, a non-negative decimal integer" };
        var command = new Command("add", "Add two non-negative integers with a trained model. Operands too long for the command line (Linux allows 128 KiB per argument) can be read from a response file: carry add --model FILE @operands.txt, one operand per line.");
        command.Options.Add(model);
        command.Options.Add(showBits);
        command.Arguments.Add(first);
        command.Arguments.Add(second);
        command.SetAction(parse =>
        {
            var a = ParseOperand("A", parse.GetValue(first));
            var b = ParseOperand("B", parse.GetValue(second));
            bool bits = parse.GetValue(showBits);
            return ModelArgument.Run(parse.GetValue(model),
                (loaded, task) => Run(loaded, task, a, b, bits),
                (loaded, task) => Run(loaded, task, a, b, bits));
        });
        return command;
    }

    /// <summary>Parses a non-negative decimal integer of any length.</summary>
    /// <exception cref="UsageException">Empty, signed or not all decimal digits.</exception>
    internal static BigInteger ParseOperand(string name, string? text)
    {
        if (string.IsNullOrEmpty(text)) throw new UsageException($"{name}: give a non-negative decimal integer.");
        if (text[0] == '-' && text.Length > 1 && !text.AsSpan(1).ContainsAnyExceptInRange('0', '9'))
        {
            throw new UsageException($"{name}: {Shorten(text)} is negative; the model adds non-negative integers.");
        }
        if (text.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            throw new UsageException($"{name}: '{Shorten(text)}' is not a non-negative decimal integer.");
        }
        return BigInteger.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    private static int Run<T>(LoadedModel<T> loaded, TaskInfo task, BigInteger a, BigInteger b, bool showBits) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (task.Encoding == ConcatEncoding.Name && (a.GetBitLength() > task.Bits || b.GetBitLength() > task.Bits))
        {
            throw new UsageException($"This model was trained on {task.Bits}-bit numbers (0 to {(BigInteger.One << task.Bits) - 1}) in the concat encoding and adds no wider ones; an operand has {Math.Max(a.GetBitLength(), b.GetBitLength())} bits.");
        }
        AdditionAnswer answer;
        try
        {
            answer = Addition.Add(loaded.Model, task, a, b);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(Check.Plain(e));
        }
        var stdout = Console.Out;
        if (showBits)
        {
            int operandBits = task.Encoding == AlignedEncoding.Name ? answer.Steps - 1 : task.Bits;
            stdout.WriteLine(BitLine(a, operandBits));
            stdout.WriteLine(BitLine(b, operandBits));
            stdout.WriteLine(BitLine(answer.Sum, operandBits + 1));
        }
        else
        {
            stdout.WriteLine(DecimalText.Format(answer.Sum));
        }
        return ExitCodes.Success;
    }

    /// <summary>The article's printout: <c>[1 0 0 1 1 1 0 1]: 157</c>, most significant bit first.</summary>
    private static string BitLine(BigInteger value, int width) => $"{BitText.Format(value, width)}: {DecimalText.Format(value)}";

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";
}
