using System.Globalization;
using System.Numerics;

namespace DepthPrune.Runtime;

/// <summary>A number as a flag or a config file writes it: invariant culture, a whole number for
/// integer types, finite for the others. One rule for the CLI's numeric flags and the method settings.</summary>
public static class NumberText
{
    /// <summary>Null when text parses (value set), else what was expected ("'x': expected a whole number").</summary>
    public static string? Parse<T>(string text, out T value) where T : struct, INumber<T>
    {
        bool integral = typeof(T) == typeof(int) || typeof(T) == typeof(long);
        if (T.TryParse(text, integral ? NumberStyles.Integer : NumberStyles.Float, CultureInfo.InvariantCulture, out value)
            && (integral || double.IsFinite(double.CreateChecked(value))))
            return null;
        return $"'{text}': expected {(integral ? "a whole number" : "a finite number")}";
    }
}
