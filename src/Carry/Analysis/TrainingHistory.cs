using System.Globalization;

namespace Carry.Analysis;

/// <summary>
/// A training history as the fit loop writes it (<c>--history FILE</c>): a header line, then one
/// comma-separated row per epoch (or print interval), invariant culture. The first column is the
/// x axis (<c>epoch</c> or <c>iteration</c>); any of <c>loss</c>, <c>val_loss</c>, <c>exact</c>,
/// <c>bit_accuracy</c>, <c>lr</c>, <c>seconds</c> may follow, and other columns are kept but
/// have no meaning here. An empty cell or <c>nan</c> is a missing value (NaN).
/// </summary>
public sealed class TrainingHistory
{
    private readonly Dictionary<string, double[]> _columns;

    private TrainingHistory(string xName, double[] x, Dictionary<string, double[]> columns)
    {
        XName = xName;
        X = x;
        _columns = columns;
    }

    /// <summary>Training loss, mean over the epoch or interval.</summary>
    public const string Loss = "loss";

    /// <summary>Validation loss.</summary>
    public const string ValidationLoss = "val_loss";

    /// <summary>Fraction (0..1) of training pairs whose every bit is right.</summary>
    public const string Exact = "exact";

    /// <summary>Fraction (0..1) of output bits that are right.</summary>
    public const string BitAccuracy = "bit_accuracy";

    /// <summary>Learning rate.</summary>
    public const string LearningRate = "lr";

    /// <summary>Wall seconds since the run began, continued across resumes.</summary>
    public const string Seconds = "seconds";

    /// <summary>Name of the first column: <c>epoch</c> or <c>iteration</c>.</summary>
    public string XName { get; }

    /// <summary>The first column, one value per row.</summary>
    public IReadOnlyList<double> X { get; }

    /// <summary>Rows read.</summary>
    public int Count => X.Count;

    /// <summary>The column named <paramref name="name"/>, or null when the file has none.</summary>
    public IReadOnlyList<double>? Column(string name) => _columns.TryGetValue(name, out var c) ? c : null;

    /// <summary>Reads a history file; throws <see cref="InvalidDataException"/> naming the file and line on bad content.</summary>
    public static TrainingHistory Read(string path)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    /// <summary>Parses history text; <paramref name="source"/> names it in error messages.</summary>
    public static TrainingHistory Parse(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string header = reader.ReadLine() ?? throw new InvalidDataException($"{source}: empty file, expected a header line such as 'epoch,loss,exact'");
        string[] names = header.Split(',').Select(n => n.Trim()).ToArray();
        if (names.Any(n => n.Length == 0)) throw new InvalidDataException($"{source}: line 1: empty column name in header '{header}'");
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length) throw new InvalidDataException($"{source}: line 1: a column name repeats in '{header}'");
        var values = new List<double>[names.Length];
        for (int c = 0; c < names.Length; c++) values[c] = [];
        int lineNumber = 1;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            string[] cells = line.Split(',');
            if (cells.Length != names.Length) throw new InvalidDataException($"{source}: line {lineNumber}: {cells.Length} fields, the header has {names.Length}");
            for (int c = 0; c < names.Length; c++) values[c].Add(Cell(cells[c], c == 0, source, lineNumber, names[c]));
        }
        if (values[0].Count == 0) throw new InvalidDataException($"{source}: no rows after the header");
        var columns = new Dictionary<string, double[]>(StringComparer.Ordinal);
        for (int c = 1; c < names.Length; c++) columns[names[c]] = values[c].ToArray();
        return new TrainingHistory(names[0], values[0].ToArray(), columns);
    }

    private static double Cell(string text, bool isX, string source, int line, string column)
    {
        string t = text.Trim();
        if (!isX && (t.Length == 0 || t.Equals("nan", StringComparison.OrdinalIgnoreCase))) return double.NaN;
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)) return v;
        if (!isX && double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out v)) return v; // inf: a diverged loss
        throw new InvalidDataException($"{source}: line {line}: column '{column}' holds '{t}', not a number");
    }
}
