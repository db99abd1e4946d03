using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Shards.LocalCluster.Hosts;

/// <summary>
/// Makes sockets and devices inside a network namespace (<c>ip netns</c>) from this process: a thread of its own enters
/// the namespace, runs the code, and leaves. A socket or device keeps the namespace it was made in, so it can be used
/// from any thread afterwards. Needs root (CAP_SYS_ADMIN).
/// </summary>
internal static partial class NetworkNamespaces
{
    private const int OpenCloseOnExec = 0x80000;
    private const int CloneNewNet = 0x40000000;

    /// <summary>Runs <paramref name="make"/> in namespace <paramref name="ns"/> and returns what it made (or throws what it threw).</summary>
    public static T Run<T>(string ns, Func<T> make)
    {
        T? made = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            var home = Open("/proc/thread-self/ns/net", OpenCloseOnExec);
            var target = Open($"/var/run/netns/{ns}", OpenCloseOnExec);
            try
            {
                if (home < 0 || target < 0)
                {
                    throw new HostNetworkException($"Cannot open the network namespace {ns} (errno {Marshal.GetLastPInvokeError()}).");
                }

                if (SetNamespace(target, CloneNewNet) != 0)
                {
                    throw new HostNetworkException($"Cannot enter the network namespace {ns} (errno {Marshal.GetLastPInvokeError()}).");
                }

                try
                {
                    made = make();
                }
                finally
                {
                    _ = SetNamespace(home, CloneNewNet); // the thread ends next; nothing else runs on it
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }
            finally
            {
                _ = Close(home);
                _ = Close(target);
            }
        })
        { IsBackground = true, Name = $"enter {ns}" };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            ExceptionDispatchInfo.Capture(failure).Throw();
        }

        return made!;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNamespace(int descriptor, int type);
}
