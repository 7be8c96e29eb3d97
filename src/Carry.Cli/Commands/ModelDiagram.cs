using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>
/// Draws a model as Keras's <c>plot_model(model, show_shapes=True)</c> does: a vertical chain of
/// boxes, an input box first, each box <c>name: Kind | input: (None, 16, 1) | output: (None, 256)</c>,
/// joined by arrows. SVG is written as text; PNG by a small rasteriser (filled rectangles, lines,
/// a 5×7 bitmap font) and a zlib-compressed PNG encoder — no drawing library needed.
/// </summary>
internal static class ModelDiagram
{
    /// <summary>Writes the diagram to <paramref name="path"/>: <c>.svg</c> or <c>.png</c> by extension.</summary>
    public static void Write(string path, IReadOnlyList<LayerRow> rows, string modelName)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        byte[] bytes = ext switch
        {
            ".svg" => Encoding.UTF8.GetBytes(Svg(rows, modelName)),
            ".png" => Png(rows, modelName),
            _ => throw new UsageException($"{path}: the diagram is written as .svg or .png (got '{ext}')"),
        };
        AtomicFile.Write(path, bytes);
    }

    /// <summary>One box: the left label and the input/output shapes on the right.</summary>
    private readonly record struct Box(string Label, string Input, string Output);

    private static List<Box> Boxes(IReadOnlyList<LayerRow> rows, string modelName)
    {
        var boxes = new List<Box>();
        if (rows.Count > 0)
        {
            string shape = ModelView.Shape(rows[0].InputShape);
            boxes.Add(new Box($"{modelName}_input: InputLayer", $"[{shape}]", $"[{shape}]"));
        }
        foreach (var r in rows) boxes.Add(new Box($"{r.Name}: {r.Kind}", ModelView.Shape(r.InputShape), ModelView.Shape(r.OutputShape)));
        return boxes;
    }

    /// <summary>Box positions in pixels, from the widest texts and the font's glyph advance and line height.</summary>
    private sealed record Layout(int Width, int Height, int BoxLeft, int LabelWidth, int KeyWidth, int ValueWidth, int BoxHeight, int Gap, int Margin)
    {
        public int BoxWidth => LabelWidth + KeyWidth + ValueWidth;

        public int Top(int index) => Margin + (index * (BoxHeight + Gap));

        public static Layout For(List<Box> boxes, double charWidth, int lineHeight)
        {
            int Chars(int n) => (int)Math.Ceiling((n + 2) * charWidth);
            int label = Chars(boxes.Max(b => b.Label.Length));
            int key = Chars("output:".Length);
            int value = Chars(boxes.Max(b => Math.Max(b.Input.Length, b.Output.Length)));
            int boxHeight = 2 * (lineHeight + 8);
            int gap = 36, margin = 20;
            int width = label + key + value + (2 * margin);
            int height = (2 * margin) + (boxes.Count * boxHeight) + ((boxes.Count - 1) * gap);
            return new Layout(width, height, margin, label, key, value, boxHeight, gap, margin);
        }
    }

    /// <summary>The SVG text.</summary>
    internal static string Svg(IReadOnlyList<LayerRow> rows, string modelName)
    {
        var boxes = Boxes(rows, modelName);
        const int FontSize = 14;
        var l = Layout.For(boxes, 0.62 * FontSize, FontSize + 4);
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{l.Width}\" height=\"{l.Height}\" viewBox=\"0 0 {l.Width} {l.Height}\">\n");
        s.Append("  <defs><marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"10\" refX=\"9\" refY=\"5\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"black\"/></marker></defs>\n");
        s.Append(CultureInfo.InvariantCulture, $"  <rect width=\"{l.Width}\" height=\"{l.Height}\" fill=\"white\"/>\n");
        s.Append(CultureInfo.InvariantCulture, $"  <g font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"{FontSize}\" fill=\"black\">\n");
        int cx = l.BoxLeft + (l.BoxWidth / 2);
        for (int i = 0; i < boxes.Count; i++)
        {
            var b = boxes[i];
            int top = l.Top(i), half = l.BoxHeight / 2;
            int x0 = l.BoxLeft, x1 = x0 + l.LabelWidth, x2 = x1 + l.KeyWidth, x3 = x2 + l.ValueWidth;
            s.Append(CultureInfo.InvariantCulture, $"    <g id=\"layer{i}\">\n");
            s.Append(CultureInfo.InvariantCulture, $"      <rect x=\"{x0}\" y=\"{top}\" width=\"{l.BoxWidth}\" height=\"{l.BoxHeight}\" fill=\"white\" stroke=\"black\"/>\n");
            s.Append(CultureInfo.InvariantCulture, $"      <line x1=\"{x1}\" y1=\"{top}\" x2=\"{x1}\" y2=\"{top + l.BoxHeight}\" stroke=\"black\"/>\n");
            s.Append(CultureInfo.InvariantCulture, $"      <line x1=\"{x1}\" y1=\"{top + half}\" x2=\"{x3}\" y2=\"{top + half}\" stroke=\"black\"/>\n");
            s.Append(CultureInfo.InvariantCulture, $"      <line x1=\"{x2}\" y1=\"{top}\" x2=\"{x2}\" y2=\"{top + l.BoxHeight}\" stroke=\"black\"/>\n");
            s.Append(CultureInfo.InvariantCulture, $"      <text x=\"{(x0 + x1) / 2}\" y=\"{top + half}\" text-anchor=\"middle\" dominant-baseline=\"central\">{Escape(b.Label)}</text>\n");
            s.Append(CultureInfo.InvariantCulture, $"      <text x=\"{(x1 + x2) / 2}\" y=\"{top + (half / 2)}\" text-anchor=\"middle\" dominant-baseline=\"central\">input:</text>\n");
            s.Append(CultureInfo.InvariantCulture, $"      <text x=\"{(x2 + x3) / 2}\" y=\"{top + (half / 2)}\" text-anchor=\"middle\" dominant-baseline=\"central\">{Escape(b.Input)}</text>\n");
            s.Append(CultureInfo.InvariantCulture, $"      <text x=\"{(x1 + x2) / 2}\" y=\"{top + half + (half / 2)}\" text-anchor=\"middle\" dominant-baseline=\"central\">output:</text>\n");
            s.Append(CultureInfo.InvariantCulture, $"      <text x=\"{(x2 + x3) / 2}\" y=\"{top + half + (half / 2)}\" text-anchor=\"middle\" dominant-baseline=\"central\">{Escape(b.Output)}</text>\n");
            s.Append("    </g>\n");
            if (i < boxes.Count - 1)
            {
                s.Append(CultureInfo.InvariantCulture, $"    <line x1=\"{cx}\" y1=\"{top + l.BoxHeight}\" x2=\"{cx}\" y2=\"{l.Top(i + 1) - 1}\" stroke=\"black\" marker-end=\"url(#arrow)\"/>\n");
            }
        }
        s.Append("  </g>\n</svg>\n");
        return s.ToString();
    }

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    /// <summary>The PNG bytes: the same layout rasterised with the 5×7 font at scale 2.</summary>
    internal static byte[] Png(IReadOnlyList<LayerRow> rows, string modelName)
    {
        var boxes = Boxes(rows, modelName);
        const int Scale = 2;
        int advance = (BitmapFont.GlyphWidth + 1) * Scale, glyphHeight = BitmapFont.GlyphHeight * Scale;
        var l = Layout.For(boxes, advance, glyphHeight + 6);
        var canvas = new Canvas(l.Width, l.Height);
        int cx = l.BoxLeft + (l.BoxWidth / 2);
        for (int i = 0; i < boxes.Count; i++)
        {
            var b = boxes[i];
            int top = l.Top(i), half = l.BoxHeight / 2, bottom = top + l.BoxHeight;
            int x0 = l.BoxLeft, x1 = x0 + l.LabelWidth, x2 = x1 + l.KeyWidth, x3 = x2 + l.ValueWidth;
            canvas.Rectangle(x0, top, x3, bottom);
            canvas.VerticalLine(x1, top, bottom);
            canvas.VerticalLine(x2, top, bottom);
            canvas.HorizontalLine(x1, x3, top + half);
            void Centered(string text, int left, int right, int middle) =>
                canvas.Text(text, ((left + right) / 2) - ((text.Length * advance) / 2), middle - (glyphHeight / 2), Scale);
            Centered(b.Label, x0, x1, top + half);
            Centered("input:", x1, x2, top + (half / 2));
            Centered(b.Input, x2, x3, top + (half / 2));
            Centered("output:", x1, x2, top + half + (half / 2));
            Centered(b.Output, x2, x3, top + half + (half / 2));
            if (i < boxes.Count - 1)
            {
                int next = l.Top(i + 1);
                canvas.VerticalLine(cx, bottom, next - 1);
                canvas.VerticalLine(cx + 1, bottom, next - 1);
                for (int k = 0; k < 8; k++) canvas.HorizontalLine(cx - 4 + (k / 2), cx + 5 - (k / 2), next - 8 + k); // arrow head, tip at the next box
            }
        }
        return canvas.EncodePng();
    }

    /// <summary>A black-on-white RGB bitmap with just enough drawing for the diagram.</summary>
    private sealed class Canvas
    {
        private readonly byte[] _gray; // [height, width], 255 white, 0 black

        public Canvas(int width, int height)
        {
            Width = width;
            Height = height;
            _gray = new byte[width * height];
            _gray.AsSpan().Fill(255);
        }

        public int Width { get; }
        public int Height { get; }

        public void Set(int x, int y)
        {
            if ((uint)x < (uint)Width && (uint)y < (uint)Height) _gray[(y * Width) + x] = 0;
        }

        public void HorizontalLine(int x0, int x1, int y)
        {
            for (int x = x0; x <= x1; x++) Set(x, y);
        }

        public void VerticalLine(int x, int y0, int y1)
        {
            for (int y = y0; y <= y1; y++) Set(x, y);
        }

        public void Rectangle(int x0, int y0, int x1, int y1)
        {
            HorizontalLine(x0, x1, y0);
            HorizontalLine(x0, x1, y1);
            VerticalLine(x0, y0, y1);
            VerticalLine(x1, y0, y1);
        }

        public void Text(string text, int x, int y, int scale)
        {
            foreach (char c in text)
            {
                var glyph = BitmapFont.Glyph(c);
                int drop = BitmapFont.Descends(c) ? 2 * scale : 0;
                for (int row = 0; row < BitmapFont.GlyphHeight; row++)
                {
                    for (int col = 0; col < BitmapFont.GlyphWidth; col++)
                    {
                        if ((glyph[row] & (0x10 >> col)) == 0) continue;
                        for (int dy = 0; dy < scale; dy++)
                        {
                            for (int dx = 0; dx < scale; dx++) Set(x + (col * scale) + dx, y + drop + (row * scale) + dy);
                        }
                    }
                }
                x += (BitmapFont.GlyphWidth + 1) * scale;
            }
        }

        /// <summary>PNG: signature, IHDR (8-bit grayscale), one zlib IDAT of filter-0 scanlines, IEND.</summary>
        public byte[] EncodePng()
        {
            using var png = new MemoryStream();
            png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
            var header = new byte[13];
            BinaryPrimitives.WriteInt32BigEndian(header, Width);
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), Height);
            header[8] = 8; // bit depth
            header[9] = 0; // grayscale
            WriteChunk(png, "IHDR", header);
            using (var raw = new MemoryStream())
            {
                using (var zlib = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
                {
                    for (int y = 0; y < Height; y++)
                    {
                        zlib.WriteByte(0); // filter: none
                        zlib.Write(_gray, y * Width, Width);
                    }
                }
                WriteChunk(png, "IDAT", raw.ToArray());
            }
            WriteChunk(png, "IEND", []);
            return png.ToArray();
        }

        private static void WriteChunk(Stream output, string type, byte[] data)
        {
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
            output.Write(length);
            byte[] typeBytes = Encoding.ASCII.GetBytes(type);
            output.Write(typeBytes);
            output.Write(data);
            uint crc = Crc32.Update(Crc32.Update(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
            BinaryPrimitives.WriteUInt32BigEndian(length, crc);
            output.Write(length);
        }
    }

    /// <summary>CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320), as PNG chunks need.</summary>
    private static class Crc32
    {
        private static readonly uint[] Table = Build();

        public static uint Update(uint crc, ReadOnlySpan<byte> data)
        {
            foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            return crc;
        }

        private static uint[] Build()
        {
            var table = new uint[256];
            for (uint n = 0; n < 256; n++)
            {
                uint c = n;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                table[n] = c;
            }
            return table;
        }
    }
}

/// <summary>A 5×7 bitmap font for printable ASCII: 7 rows per glyph, bit 4 the leftmost column.</summary>
internal static class BitmapFont
{
    public const int GlyphWidth = 5;
    public const int GlyphHeight = 7;

    // One entry per character from ' ' (32) to '~' (126): seven rows as two hex digits each
    // (g, p, q, y start at the x-height and are drawn two rows lower; see Descends).
    private static readonly string[] Glyphs =
    [
        "00000000000000", "04040404040004", "0A0A0000000000", "0A0A1F0A1F0A0A", "040F140E051E04", "18190204081303", "0C12140815120D", "04040000000000", // space ! " # $ % & '
        "02040808080402", "08040202020408", "0004150E150400", "0004041F040400", "000000000C0408", "0000001F000000", "00000000000C0C", "00010204081000", // ( ) * + , - . /
        "0E11131519110E", "040C040404040E", "0E11010204081F", "1F02040201110E", "02060A121F0202", "1F101E0101110E", "0608101E11110E", "1F010204080808", // 0-7
        "0E11110E11110E", "0E11110F01020C", "000C0C000C0C00", "000C0C000C0408", "02040810080402", "00001F001F0000", "08040201020408", "0E110102040004", // 8 9 : ; < = > ?
        "0E11010D15150E", "0E1111111F1111", "1E11111E11111E", "0E11101010110E", "1C12111111121C", "1F10101E10101F", "1F10101E101010", "0E11101711110F", // @ A-G
        "1111111F111111", "0E04040404040E", "0702020202120C", "11121418141211", "1010101010101F", "111B1515111111", "11111915131111", "0E11111111110E", // H-O
        "1E11111E101010", "0E11111115120D", "1E11111E141211", "0F10100E01011E", "1F040404040404", "1111111111110E", "11111111110A04", "1111111515150A", // P-W
        "11110A040A1111", "1111110A040404", "1F01020408101F", "0E08080808080E", "00100804020100", "0E02020202020E", "040A1100000000", "0000000000001F", // X Y Z [ \ ] ^ _
        "08040200000000", "00000E010F110F", "1010161911111E", "00000E1010110E", "01010D1311110F", "00000E111F100E", "0609081C080808", "0F11110F01110E", // ` a-g
        "10101619111111", "04000C0404040E", "0200060202120C", "10101214181412", "0C04040404040E", "00001A15151111", "00001619111111", "00000E1111110E", // h-o
        "1E11111E101010", "0F11110F010101", "00001619101010", "00000E100E011E", "08081C08080906", "0000111111130D", "00001111110A04", "0000111115150A", // p-w
        "0000110A040A11", "1111110F01110E", "00001F0204081F", "02040408040402", "04040404040404", "08040402040408", "00000815020000", // x y z { | } ~
    ];

    private static readonly byte[][] Rows = Glyphs.Select(Parse).ToArray();

    /// <summary>True for g, p, q and y, whose glyphs are drawn two rows lower so that their tails hang below the line.</summary>
    public static bool Descends(char c) => c is 'g' or 'p' or 'q' or 'y';

    /// <summary>The seven rows of <paramref name="c"/>; '?' for characters outside printable ASCII.</summary>
    public static ReadOnlySpan<byte> Glyph(char c) => Rows[c is >= ' ' and <= '~' ? c - ' ' : '?' - ' '];

    private static byte[] Parse(string hex)
    {
        if (hex.Length != 2 * GlyphHeight) throw new InvalidOperationException($"Glyph '{hex}' needs {GlyphHeight} rows.");
        return Convert.FromHexString(hex);
    }
}
