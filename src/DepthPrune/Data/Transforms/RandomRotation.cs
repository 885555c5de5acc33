using static TorchSharp.torch;

namespace DepthPrune.Data.Transforms;

/// <summary>Rotates each sample by a random angle in [-degrees, degrees] (bilinear, zero fill).</summary>
public sealed class RandomRotation(double degrees) : BatchTransform
{
    public override Tensor Apply(Tensor batch, Generator random)
    {
        long n = batch.shape[0];
        using var angles = rand([n], generator: random).mul_(2 * degrees).sub_(degrees).mul_(Math.PI / 180);
        using var cos = angles.cos();
        using var sin = angles.sin();
        using var zero = zeros(n);
        // Affine matrices [n,2,3] mapping output to input coordinates.
        using var theta = stack([cos, sin.neg(), zero, sin, cos, zero], 1).reshape(n, 2, 3);
        using var grid = nn.functional.affine_grid(theta, batch.shape, align_corners: false);
        return nn.functional.grid_sample(batch, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
    }

    public override string Describe() => $"rotation(±{degrees}°)";
}
