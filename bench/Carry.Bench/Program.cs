using BenchmarkDotNet.Running;
using Carry.Bench;

if (args.Length > 0 && args[0] == "quick")
{
    return QuickBench.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "text")
{
    return TextBench.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "infer")
{
    return InferenceBench.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "memory")
{
    return MemoryBench.Run(args[1..]);
}
if (args.Length > 1 && args[0] == "keras-addition")
{
    return KerasAddition.Run(args[1..]);
}
if (args.Length > 2 && args[0] == "keras-roundtrip")
{
    return KerasRoundTrip.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "keras")
{
    return KerasCheck.Run(args[1..]);
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
