using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DepthPrune.Models.Architectures;

/// <summary>Swin-T (torchvision's swin_t layout and names): 4x4 patch embedding, stages of
/// depths 2/2/6/2 with 3/6/12/24 heads, 7x7 windows shifted by 3 in every second block,
/// relative position bias, patch merging, stochastic depth up to 0.2. Each MLP's GELU
/// (features.S.B.mlp.1) is an activation slot: 12 in all.</summary>
public static class SwinT
{
    const int Window = 7;
    static readonly int[] Depths = [2, 2, 6, 2];
    static readonly int[] Heads = [3, 6, 12, 24];

    /// <summary>torchvision's trunc_normal_(std=0.02) with its bounds at +-2 (100 sigma: in effect
    /// a normal). TorchSharp 0.107's init.trunc_normal_ left tiny values and NaNs in large tensors.</summary>
    static void TruncatedNormal(Tensor weight)
    {
        using var noGrad = no_grad();
        weight.normal_(0, 0.02).clamp_(-2, 2);
    }

    /// <summary>Window attention; its parts are visible to the ONNX exporter.</summary>
    internal sealed class WindowAttention : Module<Tensor, Tensor>
    {
        readonly Linear qkv, proj;
        readonly Parameter relative_position_bias_table;
        readonly Tensor relative_position_index;
        readonly int heads, shift;

        public const int Size = Window;
        public Linear Qkv => qkv;
        public Linear Proj => proj;
        public int Heads => heads;
        public int Shift => shift;

        /// <summary>The relative position bias added to every window's logits: [heads, 49, 49].</summary>
        public Tensor PositionBias() => relative_position_bias_table.index_select(0, relative_position_index.to(relative_position_bias_table.device))
            .view(Window * Window, Window * Window, heads).permute(2, 0, 1);

        /// <summary>The cyclic shift actually applied on a padded ph x pw map (none when one window covers it).</summary>
        public (long H, long W) ShiftOn(long ph, long pw) => (Window >= ph ? 0 : shift, Window >= pw ? 0 : shift);

        public WindowAttention(long dim, int heads, int shift) : base("attn")
        {
            this.heads = heads;
            this.shift = shift;
            qkv = Linear(dim, dim * 3);
            proj = Linear(dim, dim);
            relative_position_bias_table = new Parameter(zeros((2 * Window - 1) * (2 * Window - 1), heads));
            TruncatedNormal(relative_position_bias_table);
            relative_position_index = RelativeIndex();
            RegisterComponents();
        }

        static Tensor RelativeIndex()
        {
            var index = new long[Window * Window * Window * Window];
            for (int a = 0; a < Window * Window; a++)
                for (int b = 0; b < Window * Window; b++)
                {
                    long dh = a / Window - b / Window + Window - 1, dw = a % Window - b % Window + Window - 1;
                    index[a * Window * Window + b] = dh * (2 * Window - 1) + dw;
                }
            return tensor(index);
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            long b = input.shape[0], h = input.shape[1], w = input.shape[2], c = input.shape[3];
            long padR = (Window - w % Window) % Window, padB = (Window - h % Window) % Window;
            var x = nn.functional.pad(input, [0, 0, 0, padR, 0, padB]);
            long ph = h + padB, pw = w + padR;
            var (shiftH, shiftW) = ShiftOn(ph, pw);
            if (shiftH + shiftW > 0) x = roll(x, [-shiftH, -shiftW], [1, 2]);
            long nh = ph / Window, nw = pw / Window, windows = nh * nw, tokens = Window * Window, headDim = c / heads;
            x = x.view(b, nh, Window, nw, Window, c).permute(0, 1, 3, 2, 4, 5).reshape(b * windows, tokens, c);
            var qkvOut = qkv.call(x).reshape(b * windows, tokens, 3, heads, headDim).permute(2, 0, 3, 1, 4);
            var q = qkvOut[0].mul(Math.Pow(headDim, -0.5));
            var attn = q.matmul(qkvOut[1].transpose(-2, -1));
            attn = attn.add(PositionBias().unsqueeze(0));
            if (shiftH + shiftW > 0)
            {
                var mask = ShiftMask(ph, pw, shiftH, shiftW, input.device);
                attn = attn.view(b, windows, heads, tokens, tokens).add(mask.unsqueeze(1).unsqueeze(0)).view(-1, heads, tokens, tokens);
            }
            attn = nn.functional.softmax(attn, -1);
            ExtraMacs.Add(2 * b * windows * heads * tokens * tokens * headDim);
            x = attn.matmul(qkvOut[2]).transpose(1, 2).reshape(b * windows, tokens, c);
            x = proj.call(x);
            x = x.view(b, nh, nw, Window, Window, c).permute(0, 1, 3, 2, 4, 5).reshape(b, ph, pw, c);
            if (shiftH + shiftW > 0) x = roll(x, [shiftH, shiftW], [1, 2]);
            return x[.., ..(int)h, ..(int)w, ..].contiguous().MoveToOuterDisposeScope();
        }

        /// <summary>-100 between tokens that the cyclic shift brought from different regions.</summary>
        public static Tensor ShiftMask(long ph, long pw, long sh, long sw, Device device)
        {
            var region = new float[ph * pw];
            long[] hBounds = [0, ph - Window, ph - sh, ph], wBounds = [0, pw - Window, pw - sw, pw];
            int id = 0;
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++, id++)
                    for (long y = hBounds[i]; y < hBounds[i + 1]; y++)
                        for (long x = wBounds[j]; x < wBounds[j + 1]; x++) region[y * pw + x] = id;
            var m = tensor(region, device: device).view(ph / Window, Window, pw / Window, Window).permute(0, 2, 1, 3).reshape(-1, Window * Window);
            var diff = m.unsqueeze(1) - m.unsqueeze(2);
            return zeros_like(diff).masked_fill(diff.ne(0), -100f);
        }
    }

    /// <summary>Stochastic depth: in training, drops a residual branch for whole samples with the
    /// given rate (and rescales the kept ones); the identity in eval mode.</summary>
    sealed class StochasticDepth(double rate) : Module<Tensor, Tensor>("stochastic_depth")
    {
        public override Tensor forward(Tensor branch)
        {
            if (!training || rate == 0) return branch.alias();
            using var keep = bernoulli(full(branch.shape[0], 1, 1, 1, 1 - rate, device: branch.device)).div_(1 - rate);
            return branch.mul(keep);
        }
    }

    /// <summary>x + attn(norm1(x)), then x + mlp(norm2(x)), each branch under stochastic depth.</summary>
    static (Group Modules, Node Description) Block(string p, long dim, int heads, int shift, double dropPath)
    {
        // Created in the order the seeded initialisation follows; registered in the order optimizer state is saved in.
        var norm1 = LayerNorm(dim, eps: 1e-5);
        var attn = new WindowAttention(dim, heads, shift);
        var norm2 = LayerNorm(dim, eps: 1e-5);
        var mlp = Layers.Named(("0", Linear(dim, 4 * dim)), ("1", new ActivationSlot(p + ".mlp.1", ActivationKind.GELU, 4 * dim, -1)),
            ("2", Dropout(0.0)), ("3", Linear(4 * dim, dim)), ("4", Dropout(0.0)));
        var modules = new Group(p, [("norm1", norm1), ("norm2", norm2), ("attn", attn), ("mlp", mlp), ("stochastic_depth", new StochasticDepth(dropPath))]);
        var description = new SeqNode(
            new ResidualNode(new SeqNode(new OpNode(p + ".norm1"), new WeightNode(p + ".attn.qkv"),
                new OpNode(p + ".attn"), new WeightNode(p + ".attn.proj"), new TrainingNode(p + ".stochastic_depth")), new SeqNode()),
            new ResidualNode(new SeqNode(new OpNode(p + ".norm2"), new WeightNode(p + ".mlp.0"), new ActNode(p + ".mlp.1"), new TrainingNode(p + ".mlp.2"),
                new WeightNode(p + ".mlp.3"), new TrainingNode(p + ".mlp.4"), new TrainingNode(p + ".stochastic_depth")), new SeqNode()));
        return (modules, description);
    }

    /// <summary>Each 2x2 patch's four tokens side by side: [B, H, W, C] -> [B, H/2, W/2, 4C].
    /// A module of its own (no parameters) so the structure runs as written.</summary>
    internal sealed class PatchGather() : Module<Tensor, Tensor>("gather")
    {
        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            long h = x.shape[1], w = x.shape[2];
            x = nn.functional.pad(x, [0, 0, 0, w % 2, 0, h % 2]);
            return cat([x[.., TensorIndex.Slice(0, null, 2), TensorIndex.Slice(0, null, 2), ..],
                        x[.., TensorIndex.Slice(1, null, 2), TensorIndex.Slice(0, null, 2), ..],
                        x[.., TensorIndex.Slice(0, null, 2), TensorIndex.Slice(1, null, 2), ..],
                        x[.., TensorIndex.Slice(1, null, 2), TensorIndex.Slice(1, null, 2), ..]], -1).MoveToOuterDisposeScope();
        }
    }

    /// <summary>[B, C, H, W] <-> [B, H, W, C].</summary>
    internal sealed class Permute(string name, params long[] order) : Module<Tensor, Tensor>(name)
    {
        public long[] Order => order;

        public override Tensor forward(Tensor x) => x.permute(order);
    }

    public static ZooModel Create(ModelOptions o)
    {
        long dim = o.Scale(96, 8 * 3);   // divisible by the 3 heads of stage 1 and by 8
        var stages = new List<(string, Module)>
        {
            ("0", Layers.Named(("0", Conv2d(o.InChannels, dim, 4, stride: 4)), ("1", new Permute("permute", 0, 2, 3, 1)), ("2", LayerNorm(dim, eps: 1e-5)))),
        };
        var nodes = new List<Node> { new WeightNode("features.0.0"), new OpNode("features.0.1"), new OpNode("features.0.2") };
        int totalBlocks = Depths.Sum(), blockIndex = 0, stageIndex = 1;
        for (int s = 0; s < Depths.Length; s++)
        {
            var blocks = new List<(string, Module)>();
            for (int i = 0; i < Depths[s]; i++, blockIndex++)
            {
                string path = $"features.{stageIndex}.{i}";
                var (block, description) = Block(path, dim, Heads[s], i % 2 == 0 ? 0 : Window / 2, 0.2 * blockIndex / (totalBlocks - 1));
                blocks.Add(($"{i}", block));
                nodes.Add(description);
            }
            stages.Add(($"{stageIndex}", new Group($"features.{stageIndex++}", blocks)));
            if (s < Depths.Length - 1)
            {
                // Patch merging: each 2x2 patch's tokens side by side, normalised, reduced to 2C.
                var reduction = Linear(4 * dim, 2 * dim, hasBias: false);
                stages.Add(($"{stageIndex}", Layers.Named(("gather", new PatchGather()), ("norm", LayerNorm(4 * dim, eps: 1e-5)), ("reduction", reduction))));
                nodes.Add(new OpNode($"features.{stageIndex}.gather"));
                nodes.Add(new OpNode($"features.{stageIndex}.norm"));
                nodes.Add(new WeightNode($"features.{stageIndex}.reduction"));
                stageIndex++;
                dim *= 2;
            }
        }
        var features = new Group("features", stages);
        var (permute, norm, avgpool, head) = (new Permute("permute", 0, 3, 1, 2), LayerNorm(dim, eps: 1e-5), AdaptiveAvgPool2d(1), Linear(dim, o.Classes));
        nodes.AddRange([new OpNode("norm"), new OpNode("permute"), new OpNode("avgpool"), new WeightNode("head")]);
        var net = new DescribedNet("swin_t", new SeqNode(nodes), [("features", features), ("norm", norm), ("permute", permute), ("avgpool", avgpool), ("head", head)]);
        using (no_grad())
            foreach (var (_, module) in net.named_modules())
                if (module is Linear l)
                {
                    TruncatedNormal(l.weight!);
                    if (l.bias is not null) init.zeros_(l.bias);
                }
        return new ZooModel("swin-t", o, net);
    }
}
