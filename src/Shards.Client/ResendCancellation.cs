using Orleans.Runtime;

namespace Shards.Client;

/// <summary>
/// Cancels calls on the client's own behalf (a gateway connection dropped, or a resent attempt ran past its limit)
/// without telling their targets. Orleans completes a cancelled call at once and also sends the target grain a
/// cancellation notice; when that notice finds no request to cancel (the answer was already on its way, or the request
/// has not arrived yet) the target's activation keeps it running for up to 3 s, retrying once a second. That is harmless
/// until the activation must deactivate: right after a silo dies, every survivor deactivates the activations whose
/// directory entries the dead silo held, and each such activation then waited for those notices, so callers of keys
/// living on healthy silos stalled for ~3 s. A resend needs no notice: Shards grains finish a command they started
/// whatever their token says, and the resent request carries the same request ID. <see cref="TransientRetryFilter"/>
/// drops the notices sent while <see cref="IsCancelling"/> is true; a caller's own cancellation is still passed on.
/// </summary>
internal static class ResendCancellation
{
    private const string NoticeInterface = "Orleans.Runtime.IGrainCallCancellationExtension";

    [ThreadStatic]
    private static int t_depth;

    /// <summary>True on the thread that is cancelling calls for a resend (cancellation callbacks run synchronously).</summary>
    public static bool IsCancelling => t_depth > 0;

    /// <summary>Cancels <paramref name="source"/>; the cancellation notices Orleans sends meanwhile are dropped.</summary>
    public static void Cancel(CancellationTokenSource source)
    {
        t_depth++;
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The attempt ended (and disposed its token source) just before its time limit fired.
        }
        finally
        {
            t_depth--;
        }
    }

    /// <summary>True for Orleans' cancellation notice to a call's target (an internal grain extension).</summary>
    public static bool IsNotice(IGrainCallContext context) =>
        context.InterfaceMethod?.DeclaringType?.FullName == NoticeInterface;
}
