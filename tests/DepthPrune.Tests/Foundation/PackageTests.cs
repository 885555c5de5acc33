using System.Diagnostics;
using System.Text.Json;

namespace DepthPrune.Tests.Foundation;

/// <summary>The packages as a .NET user meets them: `dotnet pack` gives the library and the tool; the
/// tool installs and runs; a new console project that references the library builds, loads
/// TorchSharp (the Debian 12 fix travels with the package) and probes a LeNet-5. Offline: the only
/// sources are the packed folder and the packages this build already restored.</summary>
public class PackageTests
{
    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DepthPrune.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("DepthPrune.sln not found above " + AppContext.BaseDirectory);
    }

    static string Exec(string file, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(file, args) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(" ", args)} exited {process.ExitCode}:\n{stdout}\n{stderr.Result}");
        return stdout;
    }

    [Fact]
    public void The_library_and_the_tool_pack_install_and_run()
    {
        string root = RepoRoot();
        string configuration = AppContext.BaseDirectory.Contains("/bin/Debug/") ? "Debug" : "Release";
        // A version of its own, so no earlier extraction in the NuGet cache is reused; removed at the end.
        string version = $"0.1.0-test{Environment.ProcessId}{DateTime.UtcNow:HHmmss}";
        string cache = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"));
        using var dir = new TempDir();
        try
        {
            Exec(ChildProcess.Dotnet, root, "pack", "src/DepthPrune/DepthPrune.csproj", "-c", configuration, "--no-build", "-o", dir["feed"], $"-p:PackageVersion={version}");
            Exec(ChildProcess.Dotnet, root, "pack", "src/DepthPrune.Cli/DepthPrune.Cli.csproj", "-c", configuration, "-r", "linux-x64", "-o", dir["feed"], $"-p:PackageVersion={version}");
            Assert.True(File.Exists(dir[$"feed/DepthPrune.{version}.snupkg"]));   // symbols
            File.WriteAllText(dir["NuGet.config"], $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="packed" value="{dir["feed"]}" />
                    <add key="restored" value="{cache}" />
                  </packageSources>
                </configuration>
                """);

            Exec(ChildProcess.Dotnet, dir.Path, "tool", "install", "--tool-path", dir["tools"], "--configfile", dir["NuGet.config"], "DepthPrune.Cli", "--version", version);
            using (var info = JsonDocument.Parse(Exec(dir["tools/depthprune"], dir.Path, "info", "--json")))
            {
                Assert.True(info.RootElement.GetProperty("native_loaded").GetBoolean());
                Assert.NotEqual("fallback", info.RootElement.GetProperty("onednn_isa").GetProperty("source").GetString());   // the checker travelled too
            }

            Directory.CreateDirectory(dir["consumer"]);
            File.Copy(dir["NuGet.config"], dir["consumer/NuGet.config"]);
            File.WriteAllText(dir["consumer/Consumer.csproj"], $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
                    <SelfContained>false</SelfContained>
                    <ImplicitUsings>enable</ImplicitUsings>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="DepthPrune" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(dir["consumer/Program.cs"], """
                using DepthPrune.Data;
                using DepthPrune.Data.Transforms;
                using DepthPrune.Entropy;
                using DepthPrune.Models;
                using DepthPrune.Runtime;

                Seeding.Seed(0);
                using var model = ModelZoo.Create("lenet5", new ModelOptions(Classes: 10, InChannels: 1, InputSize: 28));
                var pixels = new byte[64 * 28 * 28];
                new Random(0).NextBytes(pixels);
                using var images = ImageSet.FromBytes(pixels, [64, 1, 28, 28], Enumerable.Range(0, 64).Select(i => (long)(i % 10)).ToArray(),
                    Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray(), "random bytes");
                foreach (var layer in EntropyProbe.Measure(model, new BatchLoader(images, 32, new Pipeline([]), shuffle: false, 0, Compute.Cpu)))
                    Console.WriteLine($"{layer.Name} {layer.Neurons} {layer.Entropy:F4}");
                """);
            Exec(ChildProcess.Dotnet, dir["consumer"], "build", "-c", "Release", "--nologo");
            string probe = Exec(ChildProcess.Dotnet, dir["consumer"], "exec", dir["consumer/bin/Release/net10.0/linux-x64/Consumer.dll"]);
            var lines = probe.Trim().Split('\n');
            Assert.Equal(["relu1 6", "relu2 16", "relu3 120", "relu4 84"], lines.Select(l => string.Join(" ", l.Split(' ')[..2])));
            Assert.All(lines, l => Assert.InRange(double.Parse(l.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture), 0, 1));
            Assert.True(File.Exists(dir["consumer/bin/Release/net10.0/linux-x64/DepthPrune.ConvCheck.dll"]));
        }
        finally
        {
            foreach (string id in new[] { "depthprune", "depthprune.cli" })
            {
                string extracted = Path.Combine(cache, id, version);
                if (Directory.Exists(extracted)) Directory.Delete(extracted, recursive: true);
            }
        }
    }
}
