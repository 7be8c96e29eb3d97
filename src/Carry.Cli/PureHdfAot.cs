using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Carry.Cli;

/// <summary>
/// Native AOT only (PureHDF.rd.xml roots <see cref="Sizes"/>; it never runs): PureHDF measures
/// element types with <see cref="Marshal.SizeOf(Type)"/>, which under AOT needs each type's
/// marshalling data compiled in; naming the types here, as constants, makes the compiler keep it.
/// </summary>
internal static class PureHdfAot
{
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Every type is a constant primitive: the compiler sees each one and keeps its marshalling data.")]
    [SuppressMessage("Usage", "CA2263:Prefer generic overload when type is known", Justification = "PureHDF calls Marshal.SizeOf(Type); this overload is the one checked to keep the data it needs.")]
    internal static int Sizes() =>
        Marshal.SizeOf(typeof(byte)) + Marshal.SizeOf(typeof(sbyte)) + Marshal.SizeOf(typeof(short)) + Marshal.SizeOf(typeof(ushort))
        + Marshal.SizeOf(typeof(int)) + Marshal.SizeOf(typeof(uint)) + Marshal.SizeOf(typeof(long)) + Marshal.SizeOf(typeof(ulong))
        + Marshal.SizeOf(typeof(float)) + Marshal.SizeOf(typeof(double));
}
