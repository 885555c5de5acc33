using System.Text.Json;
using DepthPrune.Cli;

namespace DepthPrune.Tests.Foundation;

public class CliConventionTests
{
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Info_json_reports_a_loaded_native_library_on_cpu()
    {
        var (code, output, _) = Run("info", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("native_loaded").GetBoolean());
        Assert.Equal("cpu", root.GetProperty("device").GetString());
        Assert.True(root.GetProperty("threads").GetInt32() >= 1);
        Assert.StartsWith("0.107", root.GetProperty("torchsharp").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("version").GetString()));
        Assert.StartsWith("2.", root.GetProperty("libtorch").GetString());
        // The test host leaves DEPTHPRUNE_CHANNELS_LAST unset: CPU batches are channels-last.
        Assert.Equal("channels-last", root.GetProperty("cpu_batch_layout").GetString());
    }

    [Theory]
    [InlineData("no-such-command")]
    [InlineData("info", "--no-such-flag")]
    [InlineData("info", "--device", "tpu")]
    public void Usage_errors_exit_2_with_one_line(params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith("depthprune: ", err);
    }
}
