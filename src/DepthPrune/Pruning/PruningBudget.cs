namespace DepthPrune.Pruning;

/// <summary>A candidate layer for entropy-guided pruning: its importance I_l = H_l * mean|w|
/// over remaining weights, and how many weights it has left.</summary>
public readonly record struct BudgetCandidate(string Layer, double Importance, long Remaining);

/// <summary>EGP/NEPENTHE budget allocation (docs/METHODS.md, "EGP and NEPENTHE"): B = zeta * remaining
/// weights over candidates; share_l = softmax over the pool of (sum_k I_k) / I_l; a layer whose
/// amount exceeds what it has left is capped, leaves the pool with its weights and I_l, and
/// the rest of the budget is shared again among the others until no cap is hit. Weights the
/// iteration already pruned outside the pool (a whole branch, under the latency objective) count
/// against the budget: B = zeta * (pool + spent) - spent.</summary>
public static class PruningBudget
{
    public static Dictionary<string, long> Allocate(IReadOnlyList<BudgetCandidate> candidates, double zeta, double temperature = 1, long spent = 0)
    {
        if (zeta is <= 0 or >= 1) throw new Runtime.UsageException($"--prune-ratio {zeta}: must lie in (0,1)");
        var amounts = candidates.ToDictionary(c => c.Layer, _ => 0L);
        var pool = candidates.Where(c => c.Remaining > 0).ToList();
        double budget = zeta * (pool.Sum(c => (double)c.Remaining) + spent) - spent;
        while (pool.Count > 0 && budget > 0)
        {
            double[] shares = Shares(pool, temperature);
            var capped = pool.Where((c, i) => budget * shares[i] > c.Remaining).ToList();
            if (capped.Count == 0)
            {
                for (int i = 0; i < pool.Count; i++)
                    amounts[pool[i].Layer] = Math.Min(pool[i].Remaining, (long)Math.Round(budget * shares[i]));
                break;
            }
            foreach (var c in capped)
            {
                amounts[c.Layer] = c.Remaining;
                budget -= c.Remaining;
                pool.Remove(c);
            }
        }
        return amounts;
    }

    /// <summary>softmax_l((sum_k I_k) / (I_l tau)), with the max logit subtracted before exp. tau = 1
    /// is the published rule; tau &lt; 1 sharpens the shares when importances are nearly equal.</summary>
    public static double[] Shares(IReadOnlyList<BudgetCandidate> pool, double temperature = 1)
    {
        double total = pool.Sum(c => c.Importance);
        double[] logits = pool.Select(c => c.Importance > 0 ? total / c.Importance / temperature : double.PositiveInfinity).ToArray();
        if (logits.Any(double.IsPositiveInfinity))   // zero importance takes all (split evenly among such layers)
            return logits.Select(l => double.IsPositiveInfinity(l) ? 1.0 / logits.Count(double.IsPositiveInfinity) : 0).ToArray();
        double max = logits.Max();
        double[] exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        double sum = exp.Sum();
        return exp.Select(e => e / sum).ToArray();
    }
}
