using DepthPrune.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DepthPrune.Tests.Foundation;

public class TorchSmokeTests
{
    [Fact]
    public void Libtorch_loads_and_a_small_conv_net_learns_a_fixed_batch()
    {
        Seeding.Seed(1);
        var net = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding: 1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 3));
        var opt = optim.SGD(net.parameters(), 0.05, momentum: 0.9);
        using var x = randn(16, 1, 8, 8);
        using var y = randint(0, 3, 16, dtype: int64);
        float first = 0, last = 0;
        for (int step = 0; step < 30; step++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var loss = nn.functional.cross_entropy(net.forward(x), y);
            loss.backward();
            opt.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < 0.8f * first, $"loss went {first} -> {last}");
    }
}
