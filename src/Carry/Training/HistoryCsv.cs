using System.Globalization;
using System.Text;
using Carry.Serialization;

namespace Carry.Training;

/// <summary>
/// The training history as CSV, the format <c>carry plot --history</c> reads: a header line,
/// comma-separated, invariant culture; the first column is the x axis (<c>epoch</c>, counted
/// from 1, or <c>iteration</c>), then <c>loss</c>, <c>val_loss</c>, <c>exact</c>,
/// <c>bit_accuracy</c>, <c>lr</c>, <c>seconds</c> — those the run has — and any further metric
/// by name. Readers accept any subset after the first column and ignore unknown columns.
/// Files are written atomically, so a reader never sees half a file.
/// </summary>
public static class HistoryCsv
{
    /// <summary>The known columns after the x axis, in the order they are written.</summary>
    private static readonly string[] Known =
        [MetricNames.Loss, MetricNames.ValidationLoss, MetricNames.Exact, MetricNames.BitAccuracy, MetricNames.LearningRate, MetricNames.Seconds];

    /// <summary>The default history file beside a model: <c>adder.carry</c> → <c>adder.carry.history.csv</c>.</summary>
    public static string PathBeside(string modelPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        return modelPath + ".history.csv";
    }

    /// <summary>The columns of an epoch history: <c>epoch</c>, the known values every row has, then other metrics by name.</summary>
    public static IReadOnlyList<string> Columns(IReadOnlyList<EpochSummary> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var columns = new List<string> { "epoch" };
        columns.AddRange(Known.Where(name => history.Count > 0 && history.All(e => e.Find(name) is { } v && !(name == MetricNames.LearningRate && double.IsNaN(v)))));
        columns.AddRange(history.SelectMany(e => e.Metrics.Keys).Distinct(StringComparer.Ordinal)
            .Where(name => !Known.Contains(name) && history.All(e => e.Metrics.ContainsKey(name))).Order(StringComparer.Ordinal));
        return columns;
    }

    /// <summary>The CSV text of an epoch history, one row per epoch.</summary>
    public static string Format(IReadOnlyList<EpochSummary> history)
    {
        var columns = Columns(history);
        return Format(columns, history.Select(e => columns.Select(c => c == "epoch" ? e.Epoch + 1 : e.Get(c)).ToArray()));
    }

    /// <summary>CSV text from a header and rows of numbers (each row as long as the header).</summary>
    public static string Format(IReadOnlyList<string> columns, IEnumerable<double[]> rows)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder();
        text.Append(string.Join(',', columns)).Append('\n');
        foreach (var row in rows)
        {
            if (row.Length != columns.Count) throw new ArgumentException($"A row has {row.Length} values for {columns.Count} columns.", nameof(rows));
            text.Append(string.Join(',', row.Select(Number))).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Writes <paramref name="history"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, IReadOnlyList<EpochSummary> history) => WriteText(path, Format(history));

    /// <summary>Writes CSV text to <paramref name="path"/> atomically.</summary>
    public static void WriteText(string path, string csv)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(csv);
        AtomicFile.Write(path, Encoding.UTF8.GetBytes(csv));
    }

    /// <summary>Shortest round-trip text of a number, invariant culture (integers without a point).</summary>
    private static string Number(double x) => x.ToString("R", CultureInfo.InvariantCulture);
}
