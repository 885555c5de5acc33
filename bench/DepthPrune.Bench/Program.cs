using System.Diagnostics;
using DepthPrune.Bench;

// Benchmarks behind docs/RESULTS.md. Each measures what it compares side by side in one run,
// repeats it, and reports medians and ratios (the machine is shared and noisy).
DepthPrune.Runtime.LibtorchLog.ErrorsOnly();
string which = args.Length > 0 ? args[0] : "all";
if (which == "parity") { TorchParity.Run(args[1..]); return; }
if (which == "step") { StepBreakdown.Run(args[1..]); return; }
if (which == "memory") { MemorySafety.Run(); return; }
if (which == "node-times") { NodeTimes.Run(args[1], args.Length > 2 ? int.Parse(args[2]) : 2, args.Length > 3 ? int.Parse(args[3]) : 300); return; }
if (which == "mnv2-linearize") { MobileNetCeiling.Linearize(args[1], int.Parse(args[2]), args[3]); return; }
if (which == "payoff-stress") { PayoffBench.Stress(int.Parse(args[1])); return; }
int repeats = args.Length > 1 ? int.Parse(args[1]) : 5;
var clock = Stopwatch.StartNew();
if (which is "loader" or "all") LoaderBench.Run(repeats);
if (which is "probe" or "all") ProbeBench.Run(repeats);
if (which is "kernels") CountingKernels.Run();
if (which is "merge") MergeLatency.Run(repeats);
if (which is "mnv2-ceiling") MobileNetCeiling.Run(repeats, args[2..].Select(int.Parse).ToArray());
if (which is "payoff") PayoffBench.Run(repeats);
Console.WriteLine($"(benchmarks took {clock.Elapsed.TotalSeconds:F0} s)");
