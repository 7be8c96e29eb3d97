using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Carry.Numerics;

/// <summary>
/// How many cores the numeric kernels may use, and the small pool of worker threads and
/// packing buffers that serves them. Layers carry one (<c>Layer&lt;T&gt;.Compute</c>) and pass it
/// to <see cref="Gemm"/>; the CLI's <c>--threads</c> creates one. Results never depend on the
/// thread count: work is split only over output tiles, never along the summed dimension.
/// </summary>
/// <remarks>
/// A context runs one parallel product at a time. A second thread that calls in while the
/// context is busy runs its product on its own thread with temporary buffers (correct, just not
/// parallel), so a context may be shared freely. Worker threads are background threads, started
/// on first use and stopped by <see cref="Dispose"/>.
/// </remarks>
public sealed class ComputeContext : IDisposable
{
    private readonly object _gate = new();
    private readonly Thread?[] _workers;      // [P - 1] helpers; slot 0 is the calling thread
    private readonly Scratch[] _scratch;      // [P] packing buffers per slot
    private readonly Scratch _shared = new(); // a whole packed B, read by every slot
    private readonly AutoResetEvent[] _wakeEvents;  // [P - 1] one per helper, set only when it sleeps
    private readonly int[] _sleeping;               // [P - 1] 1 while that helper is (about to be) blocked
    private long _generation;                       // bumped once per parallel run; helpers wait for a change
    private ParallelJob? _job;
    private int _itemCount;
    private int _nextItem;
    private int _pending;
    private Exception? _failure;              // the first exception an item threw in the current run
    private volatile bool _disposed;
    private readonly object?[] _jobCache = new object?[2]; // a reusable job per element type (float, double)

    /// <summary>Creates a context that uses at most <paramref name="maxDegreeOfParallelism"/> threads (1 = serial).</summary>
    /// <param name="maxDegreeOfParallelism">Threads, at least 1 (e.g. 2 on a two-core machine).</param>
    public ComputeContext(int maxDegreeOfParallelism)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDegreeOfParallelism);
        MaxDegreeOfParallelism = maxDegreeOfParallelism;
        _workers = new Thread?[maxDegreeOfParallelism - 1];
        _wakeEvents = new AutoResetEvent[_workers.Length];
        for (int i = 0; i < _wakeEvents.Length; i++) _wakeEvents[i] = new AutoResetEvent(false);
        _sleeping = new int[_workers.Length];
        _scratch = new Scratch[maxDegreeOfParallelism];
        for (int i = 0; i < _scratch.Length; i++) _scratch[i] = new Scratch();
    }

    /// <summary>The context layers use unless told otherwise: every core of the machine (<see cref="Environment.ProcessorCount"/>).</summary>
    public static ComputeContext Default { get; } = new(Environment.ProcessorCount);

    /// <summary>A context that never starts a thread.</summary>
    public static ComputeContext Serial { get; } = new(1);

    /// <summary>The most threads one product may use, counting the caller.</summary>
    public int MaxDegreeOfParallelism { get; }

    /// <summary>
    /// The matrix-product code this context runs: <see cref="GemmKernel.Automatic"/> (the widest
    /// this machine accelerates) unless set, e.g. by a test that runs every path on every machine.
    /// </summary>
    internal GemmPath GemmPath { get; init; } = GemmKernel.Automatic;

    /// <summary>A slot where a kernel keeps a reusable job object between calls (taken with <see cref="Interlocked.Exchange{T}(ref T, T)"/>).</summary>
    internal ref object? JobSlot(int index) => ref _jobCache[index];

    /// <summary>Takes the context for one product; false when another thread holds it (then run serially with temporary buffers).</summary>
    internal bool TryAcquire() => !_disposed && Monitor.TryEnter(_gate);

    /// <summary>Gives the context back after <see cref="TryAcquire"/>.</summary>
    internal void Release() => Monitor.Exit(_gate);

    /// <summary>Packing buffers of thread slot <paramref name="slot"/> (0 = the caller); only while acquired.</summary>
    internal Scratch ScratchOf(int slot) => _scratch[slot];

    /// <summary>A buffer all threads of one product read (a whole packed B); only while acquired.</summary>
    internal unsafe void* SharedB(nuint bytes) => _shared.B(bytes);

    /// <summary>
    /// Runs <paramref name="job"/> over items <c>0..itemCount-1</c> on up to
    /// <see cref="MaxDegreeOfParallelism"/> threads (the caller included) and returns when all are
    /// done; the caller holds the context (<see cref="TryAcquire"/>). Items are handed out
    /// dynamically, so a busy core takes fewer; each item must write a disjoint part of the output.
    /// </summary>
    internal void RunAcquired(ParallelJob job, int itemCount)
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        if (itemCount <= 0) return;
        if (_workers.Length == 0 || itemCount == 1)
        {
            for (int i = 0; i < itemCount; i++) job.Execute(i, _scratch[0]);
            return;
        }
        EnsureWorkers();
        _job = job;
        _itemCount = itemCount;
        _nextItem = 0;
        _pending = _workers.Length;
        _failure = null;
        Wake();
        try
        {
            RunItems(job, 0);
        }
        catch (Exception e)
        {
            _failure ??= e;
            Volatile.Write(ref _nextItem, int.MaxValue / 2); // hand out no more items
        }
        // The helpers are at most one item behind: spin (yielding, never sleeping) rather than block,
        // which is faster here and allocates nothing.
        long waitStart = System.Diagnostics.Stopwatch.GetTimestamp();
        while (Volatile.Read(ref _pending) != 0) Pause(waitStart);
        _job = null;
        if (_failure is { } failure)
        {
            _failure = null;
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    private void RunItems(ParallelJob job, int slot)
    {
        var scratch = _scratch[slot];
        int item;
        while ((item = Interlocked.Increment(ref _nextItem) - 1) < _itemCount) job.Execute(item, scratch);
    }

    private void EnsureWorkers()
    {
        for (int i = 0; i < _workers.Length; i++)
        {
            if (_workers[i] is null) StartWorker(i);
        }
    }

    // Apart from EnsureWorkers so that its closure is allocated only when a thread starts.
    private void StartWorker(int index)
    {
        int slot = index + 1;
        long generation = Volatile.Read(ref _generation); // the run about to be posted is newer than this
        var thread = new Thread(() => WorkerLoop(slot, generation)) { IsBackground = true, Name = $"Carry compute {slot}" };
        _workers[index] = thread;
        thread.Start();
    }

    /// <summary>How long an idle worker spins for the next run before it blocks (the gap between two step products is shorter).</summary>
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 2000; // 0.5 ms

    /// <summary>
    /// One short wait of a spin loop that began at <paramref name="start"/>: pause instructions
    /// (no system call, so the other thread's signal is seen within a few hundred cycles) for the
    /// first <see cref="PauseOnlyTicks"/>, then a yield of the core, in case the thread being
    /// waited for needs it (more threads than cores).
    /// </summary>
    private static void Pause(long start)
    {
        if (System.Diagnostics.Stopwatch.GetTimestamp() - start < PauseOnlyTicks) Thread.SpinWait(8);
        else Thread.Yield();
    }

    /// <summary>How long a wait spins on pause instructions alone before it also yields (50 µs; the gap between two step products is usually shorter).</summary>
    private static readonly long PauseOnlyTicks = System.Diagnostics.Stopwatch.Frequency / 20_000;

    private void Wake()
    {
        Interlocked.Increment(ref _generation);
        for (int i = 0; i < _sleeping.Length; i++)
        {
            if (Volatile.Read(ref _sleeping[i]) != 0) _wakeEvents[i].Set();
        }
    }

    private void WorkerLoop(int slot, long seen)
    {
        while (true)
        {
            // Spin briefly (no allocation, no kernel call), then block until the generation moves.
            long spinStart = System.Diagnostics.Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _generation) == seen)
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() - spinStart < SpinTicks)
                {
                    Pause(spinStart);
                    continue;
                }
                // Announce the sleep before the last look at the generation (Wake reads them in the
                // opposite order), so a run posted in between is never missed.
                Interlocked.Exchange(ref _sleeping[slot - 1], 1);
                if (Volatile.Read(ref _generation) == seen) _wakeEvents[slot - 1].WaitOne();
                Interlocked.Exchange(ref _sleeping[slot - 1], 0);
                spinStart = System.Diagnostics.Stopwatch.GetTimestamp();
            }
            seen = Volatile.Read(ref _generation);
            if (_disposed) return;
            try
            {
                RunItems(_job!, slot);
            }
            catch (Exception e)
            {
                // Rethrown on the calling thread once every helper has stopped.
                Interlocked.CompareExchange(ref _failure, e, null);
                Volatile.Write(ref _nextItem, int.MaxValue / 2);
            }
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>Stops the worker threads and frees the packing buffers.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            Wake();
            foreach (var w in _workers) w?.Join();
            foreach (var e in _wakeEvents) e.Dispose();
            foreach (var s in _scratch) s.Dispose();
            _shared.Dispose();
        }
    }

    /// <summary>Per-thread packing buffers, 64-byte aligned native memory that grows on demand.</summary>
    internal sealed unsafe class Scratch : IDisposable
    {
        private void* _a, _b;

        /// <summary>A product's job object kept for the next serial product on this slot (<see cref="GemmKernel.MultiplySerial{T}"/>).</summary>
        public object? Job;
        private nuint _aBytes, _bBytes;

        /// <summary>A buffer of at least <paramref name="bytes"/> for packed A panels.</summary>
        public void* A(nuint bytes) => Grow(ref _a, ref _aBytes, bytes);

        /// <summary>A buffer of at least <paramref name="bytes"/> for packed B panels.</summary>
        public void* B(nuint bytes) => Grow(ref _b, ref _bBytes, bytes);

        private static void* Grow(ref void* p, ref nuint size, nuint bytes)
        {
            if (bytes <= size) return p;
            if (p is not null) NativeMemory.AlignedFree(p);
            p = NativeMemory.AlignedAlloc(bytes, 64);
            size = bytes;
            return p;
        }

        public void Dispose()
        {
            if (_a is not null) NativeMemory.AlignedFree(_a);
            if (_b is not null) NativeMemory.AlignedFree(_b);
            _a = _b = null;
            _aBytes = _bBytes = 0;
            GC.SuppressFinalize(this);
        }

        ~Scratch()
        {
            if (_a is not null) NativeMemory.AlignedFree(_a);
            if (_b is not null) NativeMemory.AlignedFree(_b);
        }
    }
}

/// <summary>A unit of parallel work: item <c>i</c> of a partition, run with one thread's scratch buffers.</summary>
internal abstract class ParallelJob
{
    public abstract void Execute(int item, ComputeContext.Scratch scratch);
}
