using Onnx;
using TorchSharp;
using static TorchSharp.torch;
using static DepthPrune.Models.Graph.OnnxValues;
using F = TorchSharp.torch.nn.functional;

namespace DepthPrune.Models.Graph;

/// <summary>The ONNX operators an imported network may use, run on torch tensors. Weight layers
/// and rectifiers become modules (<see cref="OnnxImport"/>); this runs them too, for the shape
/// pass that sizes those modules.</summary>
static class OnnxOps
{
    /// <summary>Every operator that imports; anything else is refused by name before a model is built.</summary>
    public static readonly IReadOnlySet<string> Supported = new HashSet<string>
    {
        "Conv", "BatchNormalization", "Gemm", "MatMul",
        "Relu", "Clip", "LeakyRelu", "PRelu", "Gelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Erf", "Sqrt", "Pow",
        "Add", "Sub", "Mul", "Div", "Concat", "Split", "Slice", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze",
        "GlobalAveragePool", "GlobalMaxPool", "AveragePool", "MaxPool", "ReduceMean", "Pad", "Identity", "Dropout", "Softmax",
        "LayerNormalization", "Constant", "Shape", "Gather", "Cast", "ConstantOfShape",
    };

    public static Tensor[] Run(NodeProto node, IReadOnlyList<Tensor?> inputs)
    {
        Tensor In(int i) => i < inputs.Count && inputs[i] is { } t ? t : throw new InvalidOperationException($"{Describe(node)}: input {i} missing");
        Tensor? Optional(int i) => i < inputs.Count ? inputs[i] : null;
        return node.OpType switch
        {
            "Split" => Split(node, In(0), Optional(1)),
            _ => [Single(node, In, Optional)],
        };
    }

    static Tensor Single(NodeProto node, Func<int, Tensor> In, Func<int, Tensor?> Optional)
    {
        switch (node.OpType)
        {
            case "Conv": return Conv(node, In(0), In(1), Optional(2));
            case "BatchNormalization":
                return F.batch_norm(In(0), In(3), In(4), In(1), In(2), training: false, eps: Float(node, "epsilon", 1e-5f));
            case "Gemm": return Gemm(node, In(0), In(1), Optional(2));
            case "MatMul": return MatMul(In(0), In(1));
            case "Relu": return F.relu(In(0));
            case "Clip": return Clip(node, In(0), Optional(1), Optional(2));
            case "LeakyRelu": return F.leaky_relu(In(0), Float(node, "alpha", 0.01f));
            case "PRelu": return where(In(0).ge(0), In(0), In(0).mul(In(1)));   // the slope broadcasts as ONNX says, not per channel only
            case "Gelu": return Gelu(node, In(0));
            case "Sigmoid": return In(0).sigmoid();
            case "HardSigmoid": return (In(0) * Float(node, "alpha", 0.2f) + Float(node, "beta", 0.5f)).clamp(0, 1);
            case "HardSwish": return F.hardswish(In(0));
            case "Tanh": return In(0).tanh();
            case "Erf": return In(0).erf();
            case "Sqrt": return In(0).sqrt();
            case "Pow": return In(0).pow(In(1));
            case "Add": return In(0) + In(1);
            case "Sub": return In(0) - In(1);
            case "Mul": return In(0) * In(1);
            case "Div": return In(0).is_floating_point() ? In(0) / In(1) : In(0).div(In(1), RoundingMode.trunc);
            case "Concat": return cat(Enumerable.Range(0, node.Input.Count).Select(In).ToArray(), Int(node, "axis", 0));
            case "Slice": return Slice(node, In(0), In(1), In(2), Optional(3), Optional(4));
            case "Flatten":
            {
                var x = In(0);
                int axis = (int)Axis(Int(node, "axis", 1), x.dim());
                return x.reshape(x.shape[..axis].Aggregate(1L, (a, b) => a * b), -1);
            }
            case "Reshape": return Reshape(node, In(0), In(1));
            case "Transpose":
            {
                var x = In(0);
                return x.permute(Ints(node, "perm") ?? Enumerable.Range(0, (int)x.dim()).Reverse().Select(i => (long)i).ToArray());
            }
            case "Squeeze":
            {
                var x = In(0);
                var axes = Axes(node, Optional(1));
                if (axes is null) return x.squeeze();
                foreach (long a in axes.Select(a => Axis(a, x.dim())).OrderDescending()) x = x.squeeze(a);
                return x;
            }
            case "Unsqueeze":
            {
                var x = In(0);
                var axes = Axes(node, Optional(1)) ?? throw Unsupported(node, "needs axes");
                long rank = x.dim() + axes.Length;
                foreach (long a in axes.Select(a => Axis(a, rank)).Order()) x = x.unsqueeze(a);
                return x;
            }
            case "GlobalAveragePool": return In(0).mean(Spatial(In(0)), keepdim: true);
            case "GlobalMaxPool": return In(0).amax(Spatial(In(0)), keepdim: true);
            case "AveragePool":
            {
                var (kernel, stride, pads) = Window(node);
                bool countPads = Int(node, "count_include_pad", 0) == 1;
                if (Symmetric(pads) is null && !countPads) throw Unsupported(node, "averages over asymmetric pads without counting them");
                return Windowed(In(0), pads, 0, (x, p) => F.avg_pool2d(x, kernel, stride, p, Int(node, "ceil_mode", 0) == 1, countPads));
            }
            case "MaxPool":
            {
                var (kernel, stride, pads) = Window(node);
                if (node.Output.Count > 1 && node.Output[1].Length > 0) throw Unsupported(node, "returns indices");
                return Windowed(In(0), pads, double.NegativeInfinity, (x, p) => F.max_pool2d(x, kernel, stride, p, Ints(node, "dilations") ?? [1, 1], Int(node, "ceil_mode", 0) == 1));
            }
            case "ReduceMean":
            {
                var x = In(0);
                var axes = Axes(node, Optional(1))?.Select(a => Axis(a, x.dim())).ToArray() ?? Enumerable.Range(0, (int)x.dim()).Select(i => (long)i).ToArray();
                return x.mean(axes, keepdim: Int(node, "keepdims", 1) == 1);
            }
            case "Pad": return Pad(node, In(0), Optional(1), Optional(2));
            case "Identity": case "Dropout": return In(0).alias();
            case "Softmax": return In(0).softmax(Int(node, "axis", -1));
            case "LayerNormalization":
            {
                var x = In(0);
                long axis = Axis(Int(node, "axis", -1), x.dim());
                return F.layer_norm(x, x.shape[(int)axis..], In(1), Optional(2), Float(node, "epsilon", 1e-5f));
            }
            case "Shape":
            {
                var shape = In(0).shape;
                long start = Axis(Int(node, "start", 0), shape.Length), end = Attribute(node, "end") is { } e ? Math.Clamp(e.I < 0 ? e.I + shape.Length : e.I, 0, shape.Length) : shape.Length;
                return tensor(shape[(int)start..(int)end]);
            }
            case "Gather":
            {
                var x = In(0);
                var indices = In(1);
                long axis = Axis(Int(node, "axis", 0), x.dim());
                using var wrapped = indices.lt(0).to(ScalarType.Int64) * x.shape[axis] + indices;
                using var flat = wrapped.flatten();
                return x.index_select(axis, flat).reshape([.. x.shape[..(int)axis], .. indices.shape, .. x.shape[((int)axis + 1)..]]);
            }
            case "Cast": return In(0).to(CastType(node));
            case "ConstantOfShape":
            {
                var shape = Checked(node, In(0).data<long>().ToArray());
                var value = Attribute(node, "value")?.T is { } t ? ToTensor(t, Describe(node)) : tensor(0f);
                return value.reshape(1).expand(shape.Length == 0 ? [1] : shape).clone().reshape(shape);
            }
            case "Constant": return ConstantValue(node);
            default: throw Unsupported(node, "is not an operator DepthPrune imports");
        }
    }

    public static Runtime.UsageException Unsupported(NodeProto node, string why) => new($"{Describe(node)} {why}");

    static long Axis(long axis, long rank) => axis < 0 ? axis + rank : axis;

    static long[] Spatial(Tensor x) => Enumerable.Range(2, (int)x.dim() - 2).Select(i => (long)i).ToArray();

    static long[]? Axes(NodeProto node, Tensor? input) => input is not null ? input.data<long>().ToArray() : Ints(node, "axes");

    /// <summary>Kernel, strides and pads [top, left, bottom, right] of a 2-D pooling or conv node.</summary>
    public static (long[] Kernel, long[] Stride, long[] Pads) Window(NodeProto node, long[]? kernel = null)
    {
        kernel ??= Ints(node, "kernel_shape") ?? throw Unsupported(node, "has no kernel_shape");
        if (kernel.Length != 2) throw Unsupported(node, $"has a {kernel.Length}-D kernel; 2-D windows are imported");
        string autoPad = Text(node, "auto_pad") ?? "NOTSET";
        if (autoPad is not ("NOTSET" or "VALID")) throw Unsupported(node, $"uses auto_pad {autoPad}; explicit pads are imported");
        long[] strides = Ints(node, "strides") ?? [1, 1], pads = Ints(node, "pads") ?? [0, 0, 0, 0];
        // A damaged file can ask for a window libtorch would spend minutes allocating for.
        if (kernel.Any(k => k is < 1 or > MaxSide) || strides.Length != 2 || strides.Any(t => t is < 1 or > MaxSide) || pads.Length != 4 || pads.Any(p => p is < 0 or > MaxSide))
            throw Unsupported(node, $"has kernel [{string.Join(",", kernel)}], strides [{string.Join(",", strides)}], pads [{string.Join(",", pads)}]: expected 2 strides and 4 pads, each between 1 (0 for pads) and {MaxSide}");
        return (kernel, strides, pads);
    }

    /// <summary>The largest side a window, a stride or a pad may have.</summary>
    const long MaxSide = 4096;

    /// <summary>The most elements a value may hold for one image (1 GiB of floats): a larger one
    /// comes from a damaged size, not from a network.</summary>
    const long MaxElements = 1L << 28;

    static long[] Checked(NodeProto node, long[] shape)
    {
        double elements = shape.Aggregate(1.0, (a, d) => a * d);
        if (shape.Any(d => d < 0) || elements > MaxElements)
            throw Unsupported(node, $"would make a value of shape [{string.Join(",", shape)}]; at most {MaxElements:N0} elements per image are imported");
        return shape;
    }

    /// <summary>Pads as (height, width) when both ends match; null when they differ (then the
    /// padding is its own step before the window).</summary>
    public static long[]? Symmetric(long[] pads) => pads[0] == pads[2] && pads[1] == pads[3] ? [pads[0], pads[1]] : null;

    /// <summary>Pads in torch's order (left, right, top, bottom).</summary>
    public static long[] TorchPads(long[] pads) => [pads[1], pads[3], pads[0], pads[2]];

    /// <summary>A window op on x: padded by its own step first when the pads are asymmetric.</summary>
    static Tensor Windowed(Tensor x, long[] pads, double fill, Func<Tensor, long[], Tensor> window)
    {
        if (Symmetric(pads) is { } both) return window(x, both);
        using var padded = F.pad(x, TorchPads(pads), PaddingModes.Constant, fill);
        return window(padded, [0, 0]);
    }

    static Tensor Conv(NodeProto node, Tensor x, Tensor w, Tensor? b)
    {
        var (_, stride, pads) = Window(node, w.shape[2..]);
        return Windowed(x, pads, 0, (input, p) => F.conv2d(input, w, b, stride, p, Ints(node, "dilations") ?? [1, 1], Int(node, "group", 1)));
    }

    static Tensor Gemm(NodeProto node, Tensor a, Tensor b, Tensor? c)
    {
        if (a.dim() != 2 || b.dim() != 2) throw new ArgumentException($"Gemm multiplies 2-D matrices, not [{string.Join(",", a.shape)}] by [{string.Join(",", b.shape)}]");
        if (Int(node, "transA", 0) != 0) a = a.t();
        if (Int(node, "transB", 0) != 0) b = b.t();
        var y = MatMul(a, b) * Float(node, "alpha", 1f);
        return c is null ? y : y + c * Float(node, "beta", 1f);
    }

    /// <summary>libtorch's matmul throws through TorchSharp (ending the process) on shapes that do not
    /// multiply: they are checked here first.</summary>
    static Tensor MatMul(Tensor a, Tensor b)
    {
        long inner = b.dim() == 1 ? b.shape[0] : b.shape[^2];
        if (a.dim() == 0 || b.dim() == 0 || a.shape[^1] != inner)
            throw new ArgumentException($"MatMul of [{string.Join(",", a.shape)}] by [{string.Join(",", b.shape)}]: the shapes do not multiply");
        return a.matmul(b);
    }

    static Tensor Clip(NodeProto node, Tensor x, Tensor? min, Tensor? max)
    {
        double lo = (min is null ? (double?)null : Scalar(min)) ?? (Attribute(node, "min") is { } a ? a.F : double.NegativeInfinity);
        double hi = (max is null ? (double?)null : Scalar(max)) ?? (Attribute(node, "max") is { } b ? b.F : double.PositiveInfinity);
        return x.clamp(lo, hi);
    }

    static Tensor Gelu(NodeProto node, Tensor x) => (Text(node, "approximate") ?? "none") switch
    {
        "none" => F.gelu(x),
        "tanh" => x * 0.5 * ((x + x.pow(3) * 0.044715) * Math.Sqrt(2 / Math.PI)).tanh().add(1),
        var other => throw Unsupported(node, $"has approximate '{other}'"),
    };

    static Tensor[] Split(NodeProto node, Tensor x, Tensor? sizes)
    {
        long axis = Axis(Int(node, "axis", 0), x.dim());
        long[] parts = sizes?.data<long>().ToArray() ?? Ints(node, "split")
            ?? Enumerable.Repeat(x.shape[axis] / node.Output.Count, node.Output.Count).ToArray();
        return x.split(parts, axis);
    }

    static Tensor Slice(NodeProto node, Tensor x, Tensor starts, Tensor ends, Tensor? axes, Tensor? steps)
    {
        long[] s = starts.data<long>().ToArray(), e = ends.data<long>().ToArray();
        long[] a = axes?.data<long>().ToArray() ?? Enumerable.Range(0, s.Length).Select(i => (long)i).ToArray();
        long[] st = steps?.data<long>().ToArray() ?? Enumerable.Repeat(1L, s.Length).ToArray();
        for (int i = 0; i < s.Length; i++)
        {
            if (st[i] < 1) throw Unsupported(node, $"steps {st[i]}; positive steps are imported");
            long dim = Axis(a[i], x.dim()), size = x.shape[dim];
            long Clamp(long v) => Math.Clamp(v < 0 ? v + size : v, 0, size);
            x = x.slice(dim, Clamp(s[i]), Math.Max(Clamp(s[i]), Clamp(e[i])), st[i]);
        }
        return x;
    }

    static Tensor Reshape(NodeProto node, Tensor x, Tensor shapeInput)
    {
        long[] shape = shapeInput.data<long>().ToArray();
        if (Int(node, "allowzero", 0) == 0)
            for (int i = 0; i < shape.Length; i++)
                if (shape[i] == 0) shape[i] = x.shape[i];
        return x.reshape(shape);
    }

    static Tensor Pad(NodeProto node, Tensor x, Tensor? padsInput, Tensor? value)
    {
        long[] pads = padsInput?.data<long>().ToArray() ?? Ints(node, "pads") ?? throw Unsupported(node, "has no pads");
        int rank = (int)x.dim();
        // ONNX: all begins then all ends, first axis first; torch: (begin, end) pairs, last axis first.
        if (pads.Length != 2 * rank) throw Unsupported(node, $"has {pads.Length} pads for a rank-{rank} value; expected {2 * rank}");
        Checked(node, Enumerable.Range(0, rank).Select(d => x.shape[d] + pads[d] + pads[d + rank]).ToArray());
        var torchPads = Enumerable.Range(0, rank).Reverse().SelectMany(d => new[] { pads[d], pads[d + rank] }).ToArray();
        string mode = Text(node, "mode") ?? "constant";
        return mode switch
        {
            "constant" => F.pad(x, torchPads, PaddingModes.Constant, (value is null ? (double?)null : Scalar(value)) ?? Float(node, "value", 0f)),
            "reflect" => F.pad(x, torchPads, PaddingModes.Reflect),
            "edge" => F.pad(x, torchPads, PaddingModes.Replicate),
            _ => throw Unsupported(node, $"uses pad mode '{mode}'"),
        };
    }

    static ScalarType CastType(NodeProto node) => (TensorProto.Types.DataType)Int(node, "to", 1) switch
    {
        TensorProto.Types.DataType.Float => ScalarType.Float32,
        TensorProto.Types.DataType.Double => ScalarType.Float64,
        TensorProto.Types.DataType.Int64 => ScalarType.Int64,
        TensorProto.Types.DataType.Int32 => ScalarType.Int32,
        TensorProto.Types.DataType.Bool => ScalarType.Bool,
        var other => throw Unsupported(node, $"casts to {other}"),
    };

    public static Tensor ConstantValue(NodeProto node)
    {
        if (Attribute(node, "value")?.T is { } t) return ToTensor(t, Describe(node));
        if (Attribute(node, "value_float") is { } f) return tensor(f.F);
        if (Attribute(node, "value_floats") is { } fs) return tensor(fs.Floats.ToArray());
        if (Attribute(node, "value_int") is { } i) return tensor(i.I);
        if (Attribute(node, "value_ints") is { } ints) return tensor(ints.Ints.ToArray());
        throw Unsupported(node, "holds no value this reader knows");
    }
}
