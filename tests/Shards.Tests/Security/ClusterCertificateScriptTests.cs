using System.Diagnostics;
using Shards.Client;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Security;

/// <summary>
/// scripts/make-cluster-cert.sh (run with bash and openssl, into a temporary folder): what it writes is a cluster
/// certificate the silos load, with the password file beside it, both with the modes the script documents.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ClusterCertificateScriptTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "shards-cert-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task The_script_makes_a_certificate_the_silos_load_and_prints_the_secret_and_compose_lines()
    {
        var (exitCode, output) = await RunAsync(_folder);

        Assert.True(exitCode == 0, output);
        var pfx = Path.Combine(_folder, "cluster.pfx");
        var passwordFile = Path.Combine(_folder, "cluster.password");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(passwordFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(pfx));
        var password = await File.ReadAllTextAsync(passwordFile);
        Assert.Matches("^[0-9a-f]{64}$", password);
        Assert.DoesNotContain(password, output, StringComparison.Ordinal);

        var tls = ClusterTls.From(new ShardsTlsOptions { Enabled = true, CertificatePath = pfx, CertificatePassword = password })!;
        using var certificate = tls.Certificate;
        Assert.True(certificate.HasPrivateKey);
        Assert.True(tls.Trusts(tls.Certificate));
        Assert.Contains(tls.Certificate.Thumbprint, output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("kubectl create secret generic shards-cluster-tls --from-file=cluster.pfx=", output, StringComparison.Ordinal);
        Assert.Contains("SHARDS_TLS_PASSWORD=", output, StringComparison.Ordinal);

        var (again, refusal) = await RunAsync(_folder);
        Assert.NotEqual(0, again);
        Assert.Contains("already holds a cluster certificate", refusal, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string folder)
    {
        var script = Path.Combine(TestRepository.Root, "scripts", "make-cluster-cert.sh");
        using var process = Process.Start(new ProcessStartInfo("bash", [script, folder])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout + await stderr);
    }
}
