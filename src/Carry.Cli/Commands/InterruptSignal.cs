namespace Carry.Cli.Commands;

/// <summary>Turns Ctrl-C (SIGINT) and SIGTERM into a cancellation request instead of killing the process.</summary>
internal sealed class InterruptSignal : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly List<System.Runtime.InteropServices.PosixSignalRegistration> _registrations = [];

    public InterruptSignal()
    {
        Console.CancelKeyPress += OnCancelKeyPress;
        foreach (var signal in new[] { System.Runtime.InteropServices.PosixSignal.SIGINT, System.Runtime.InteropServices.PosixSignal.SIGTERM })
        {
            try
            {
                _registrations.Add(System.Runtime.InteropServices.PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true;
                    _source.Cancel();
                }));
            }
            catch (PlatformNotSupportedException)
            {
                // Console.CancelKeyPress still covers Ctrl-C.
            }
        }
    }

    /// <summary>Cancelled once a signal arrives.</summary>
    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        foreach (var r in _registrations) r.Dispose();
        _source.Dispose();
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        _source.Cancel();
    }
}
