using System.Runtime.InteropServices;

namespace Shards.LocalCluster;

/// <summary>Sends POSIX signals to other processes (.NET can only SIGKILL them).</summary>
public static partial class PosixSignals
{
    public const int SigKill = 9;
    public const int SigUsr2 = 12;
    public const int SigTerm = 15;
    public const int SigCont = 18;
    public const int SigStop = 19;

    /// <summary>True when the signal was delivered (false: no such process, or not allowed).</summary>
    public static bool Send(int pid, int signal) => OperatingSystem.IsLinux() && Kill(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
