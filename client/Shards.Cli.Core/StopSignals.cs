using System.Runtime.InteropServices;

namespace Shards.Cli.Core;

/// <summary>
/// Turns Ctrl+C (SIGINT) and SIGTERM into a cancellation, so long-running commands (cluster up, demo) stop their
/// silos gracefully instead of the process dying under them.
/// </summary>
public sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration[] _registrations;
    private int _disposed;

    public StopSignals(CancellationToken outer)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    public CancellationToken Token => _stop.Token;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // we stop ourselves, gracefully
        if (Volatile.Read(ref _disposed) == 1)
        {
            return; // a late second signal: the command already finished
        }

        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Raced with Dispose: nothing left to stop.
        }
    }
}
