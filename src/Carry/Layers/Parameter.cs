using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// A named trainable tensor and its gradient. Gradients accumulate with <c>+=</c> in
/// <c>Backward</c> and are zeroed once per step. The shape and layout follow PyTorch
/// (<c>weight [out, in]</c>, <c>weight_ih_l0 [G*H, I]</c>).
/// </summary>
public sealed class Parameter<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a zero parameter of <paramref name="shape"/>.</summary>
    public Parameter(string name, params int[] shape)
    {
        Name = name;
        Value = new Tensor<T>(shape);
        Gradient = new Tensor<T>(shape);
    }

    /// <summary>Creates a zero parameter named and shaped by <paramref name="shape"/>.</summary>
    public Parameter(ParameterShape shape)
        : this(shape.Name, shape.ToArray())
    {
    }

    /// <summary>Zero parameters for every shape of <paramref name="shapes"/>, in its order.</summary>
    internal static Parameter<T>[] All(in ParameterShapeList shapes)
    {
        var parameters = new Parameter<T>[shapes.Count];
        for (int i = 0; i < parameters.Length; i++) parameters[i] = new Parameter<T>(shapes[i]);
        return parameters;
    }

    /// <summary>PyTorch's name, e.g. <c>weight_hh_l0</c>.</summary>
    public string Name { get; }

    /// <summary>The values.</summary>
    public Tensor<T> Value { get; }

    /// <summary>The accumulated gradient, same shape as <see cref="Value"/>.</summary>
    public Tensor<T> Gradient { get; }

    /// <summary>The shape.</summary>
    public ReadOnlySpan<int> Shape => Value.Shape;

    /// <summary>Number of scalars.</summary>
    public int Length => Value.Length;

    /// <inheritdoc />
    public override string ToString() => $"{Name} {Value.ShapeString}";
}

/// <summary>A parameter as the model sees it: its full name (<c>layers.0.weight_ih_l0</c>) and the parameter.</summary>
public readonly record struct NamedParameter<T>(string Name, Parameter<T> Parameter) where T : unmanaged, IFloatingPointIeee754<T>;
