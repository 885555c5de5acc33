using System.Text.Json.Nodes;

namespace DepthPrune.Tests.Methods;

/// <summary>run.json as two runs of the same job must agree on it: timings dropped, the run folder's path replaced.</summary>
static class RunJson
{
    public static string Normalised(string runDir)
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "run.json")))!;
        Strip(root);
        return root.ToJsonString().Replace(runDir, "RUN");
    }

    static void Strip(JsonNode? node)
    {
        if (node is JsonObject o)
        {
            o.Remove("seconds");
            o.Remove("total_iteration_seconds");
            foreach (var (_, child) in o.ToList()) Strip(child);
        }
        else if (node is JsonArray a) foreach (var child in a) Strip(child);
    }
}
