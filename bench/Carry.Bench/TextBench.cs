using System.Diagnostics;
using System.Globalization;
using Carry.Layers;
using Carry.Numerics;
using Carry.Text;

namespace Carry.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/Carry.Bench -- text --corpus FILE [--embedding N] [--steps S] [--threads N]</c>:
/// char-rnn training throughput at karpathy's defaults on a real corpus (the same model, task
/// and step as <c>carry train text</c>), with the time of one step split into forward, loss,
/// backward and update, and the process's peak working set.
/// </summary>
public static class TextBench
{
    public static int Run(string[] args)
    {
        string corpusPath = "data/tinyshakespeare.txt";
        int embedding = 0, steps = 40, threads = 0;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--corpus": corpusPath = args[i + 1]; break;
                case "--embedding": embedding = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--steps": steps = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown flag {args[i]}");
            }
        }
        var options = new CharRnnOptions { Embedding = embedding };
        var corpus = TextCorpus.Load(corpusPath, options.Batch, options.Seq);
        var model = CharRnn.Create<float>(corpus.Vocabulary, options, seed: 0);
        using var compute = threads > 0 ? new ComputeContext(threads) : null;
        if (compute is not null) model.Compute = compute;
        int width = CharRnn.InputWidth(model, corpus.Vocabulary);
        var streams = new TextStreams(corpus.Training, options.Batch, options.Seq);
        var x = new Tensor<float>(options.Batch, options.Seq, width);
        var y = new Tensor<float>(options.Batch, options.Seq, 1);
        var state = new StreamState<float>(model, options.Batch);
        for (int k = 0; k < 10; k++) // warm-up: buffers, and the JIT's optimised tier
        {
            streams.Fill(k, x, y);
            model.TrainStep(x, y, options.ClipValue, 0, state);
        }
        // Whole steps, as the fit loop runs them.
        var clock = Stopwatch.StartNew();
        double cpu0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        for (int k = 0; k < steps; k++)
        {
            streams.Fill((k + 10) % streams.ChunkCount, x, y);
            model.TrainStep(x, y, options.ClipValue, 0, state);
        }
        double seconds = clock.Elapsed.TotalSeconds, cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - cpu0;
        double chars = (double)steps * options.Batch * options.Seq;
        double peak = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0); // training alone, before the parts below add a buffer
        var dLogits = new Tensor<float>(options.Batch, options.Seq, corpus.Vocabulary.Count);
        // The parts of a step, timed apart over a few more steps.
        double forward = 0, loss = 0, backward = 0, update = 0; // process CPU milliseconds (all threads), steadier than wall time on a shared machine
        var process = Process.GetCurrentProcess();
        double Cpu()
        {
            process.Refresh();
            return process.TotalProcessorTime.TotalMilliseconds;
        }
        int parts = Math.Max(3, steps / 4);
        for (int k = 0; k < parts; k++)
        {
            streams.Fill(k % streams.ChunkCount, x, y);
            model.ZeroGradients();
            double t0 = Cpu();
            var logits = model.Forward(x, training: true, state);
            double t1 = Cpu();
            model.Loss!.Compute(logits.Span, y.Span, dLogits.Span);
            double t2 = Cpu();
            model.Backward(dLogits);
            double t3 = Cpu();
            Carry.Optimizers.GradientClipping.ByValue(model.ParameterList, options.ClipValue);
            model.Optimizer!.Step(model.ParameterList);
            double t4 = Cpu();
            forward += t1 - t0;
            loss += t2 - t1;
            backward += t3 - t2;
            update += t4 - t3;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"carry corpus={corpusPath} symbols={corpus.Vocabulary.Count} chars_per_s={chars / seconds:F0} chars_per_cpu_s={chars / cpu:F0} steps={steps} seconds={seconds:F1} " +
            $"step_ms={1000 * seconds / steps:F1} step_cpu_ms={1000 * cpu / steps:F1} forward_cpu_ms={forward / parts:F1} loss_cpu_ms={loss / parts:F1} backward_cpu_ms={backward / parts:F1} update_cpu_ms={update / parts:F1} " +
            $"peak_working_set_mib={peak:F0}"));
        return 0;
    }
}
