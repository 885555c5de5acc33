using DepthPrune.Models.Architectures;
using TorchSharp.Modules;
using static DepthPrune.Export.OnnxGraph;
using static TorchSharp.torch;

namespace DepthPrune.Export;

/// <summary>Swin-T's own ops in opset-17 ONNX: LayerNorm, the channels-last permutes, patch
/// merging's gather, and shifted-window attention, written for the shapes the stage really sees
/// (batch symbolic), the same computation as the modules' forward.</summary>
static class SwinExport
{
    public static string LayerNorm(OnnxGraph g, string name, LayerNorm norm, string x) =>
        g.Node("LayerNormalization", [x, g.Constant(name + ".weight", norm.weight!), g.Constant(name + ".bias", norm.bias!)],
            Int("axis", -1), Float("epsilon", (float)norm.eps));

    /// <summary>[B, H, W, C] -> [B, H/2, W/2, 4C]: the four tokens of each 2x2 patch side by side.</summary>
    public static string PatchGather(OnnxGraph g, string x, long[] shape)
    {
        long h = shape[1], w = shape[2];
        if (h % 2 + w % 2 > 0) x = g.Node("Pad", [x, g.Int64s("pads", [0, 0, 0, 0, 0, h % 2, w % 2, 0])]);
        string Quarter(long row, long column) => g.Node("Slice", [x, g.Int64s("starts", [row, column]), g.Int64s("ends", [long.MaxValue, long.MaxValue]),
            g.Int64s("axes", [1, 2]), g.Int64s("steps", [2, 2])]);
        return g.Node("Concat", [Quarter(0, 0), Quarter(1, 0), Quarter(0, 1), Quarter(1, 1)], Int("axis", -1));
    }

    /// <summary>Shifted-window multi-head self-attention on [B, H, W, C].</summary>
    public static string Attention(OnnxGraph g, string name, SwinT.WindowAttention a, string x, long[] shape)
    {
        const long size = SwinT.WindowAttention.Size, tokens = size * size;
        long h = shape[1], w = shape[2], c = shape[3], heads = a.Heads, headDim = c / heads;
        long padB = (size - h % size) % size, padR = (size - w % size) % size, ph = h + padB, pw = w + padR;
        long nh = ph / size, nw = pw / size;
        var (shiftH, shiftW) = a.ShiftOn(ph, pw);
        if (padB + padR > 0) x = g.Node("Pad", [x, g.Int64s("pads", [0, 0, 0, 0, 0, padB, padR, 0])]);
        x = Roll(g, Roll(g, x, -shiftH, 1, ph), -shiftW, 2, pw);
        x = Reshape(g, x, [-1, nh, size, nw, size, c]);
        x = Reshape(g, g.Node("Transpose", [x], Ints("perm", [0, 1, 3, 2, 4, 5])), [-1, tokens, c]);

        string qkv = Reshape(g, Linear(g, name + ".qkv", a.Qkv, x), [-1, tokens, 3, heads, headDim]);
        qkv = g.Node("Transpose", [qkv], Ints("perm", [2, 0, 3, 1, 4]));
        string Part(long i) => g.Node("Gather", [qkv, g.Int64Scalar("index", i)], Int("axis", 0));
        string q = g.Node("Mul", [Part(0), g.Constant("scale", [MathF.Pow(headDim, -0.5f)])]);
        string kT = g.Node("Transpose", [Part(1)], Ints("perm", [0, 1, 3, 2]));
        string logits = g.Node("MatMul", [q, kT]);
        using (var bias = a.PositionBias().unsqueeze(0))
            logits = g.Node("Add", [logits, g.Constant(name + ".position_bias", bias)]);
        if (shiftH + shiftW > 0)
        {
            using var mask = SwinT.WindowAttention.ShiftMask(ph, pw, shiftH, shiftW, CPU).unsqueeze(1).unsqueeze(0);
            logits = Reshape(g, logits, [-1, nh * nw, heads, tokens, tokens]);
            logits = Reshape(g, g.Node("Add", [logits, g.Constant(name + ".shift_mask", mask)]), [-1, heads, tokens, tokens]);
        }
        string attention = g.Node("Softmax", [logits], Int("axis", -1));
        string y = g.Node("Transpose", [g.Node("MatMul", [attention, Part(2)])], Ints("perm", [0, 2, 1, 3]));
        y = Linear(g, name + ".proj", a.Proj, Reshape(g, y, [-1, tokens, c]));

        y = Reshape(g, y, [-1, nh, nw, size, size, c]);
        y = Reshape(g, g.Node("Transpose", [y], Ints("perm", [0, 1, 3, 2, 4, 5])), [-1, ph, pw, c]);
        y = Roll(g, Roll(g, y, shiftH, 1, ph), shiftW, 2, pw);
        return padB + padR == 0 ? y : g.Node("Slice", [y, g.Int64s("starts", [0, 0]), g.Int64s("ends", [h, w]), g.Int64s("axes", [1, 2])]);
    }

    static string Reshape(OnnxGraph g, string x, long[] shape) => g.Node("Reshape", [x, g.Int64s("shape", shape)]);

    static string Linear(OnnxGraph g, string name, Linear layer, string x) =>
        OnnxExport.TokenLinear(g, name, layer.weight!, g.Constant(name + ".bias", layer.bias!), x);

    /// <summary>torch.roll along one axis of the given length: out[j] = x[j - shift].</summary>
    static string Roll(OnnxGraph g, string x, long shift, long axis, long length)
    {
        long s = ((shift % length) + length) % length;
        if (s == 0) return x;
        string Part(long start, long end) => g.Node("Slice", [x, g.Int64s("starts", [start]), g.Int64s("ends", [end]), g.Int64s("axes", [axis])]);
        return g.Node("Concat", [Part(length - s, length), Part(0, length - s)], Int("axis", axis));
    }
}
