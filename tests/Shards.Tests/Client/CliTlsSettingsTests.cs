using Microsoft.Extensions.Configuration;
using Shards.Cli.Core;
using Shards.Client;

namespace Shards.Tests.Client;

/// <summary>Which TLS settings the CLI connects with: explicit configuration wins over the local cluster's marker file.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class CliTlsSettingsTests
{
    private static readonly ShardsTlsOptions s_local = new() { Enabled = true, CertificatePath = "/local/cluster.pfx" };

    [Fact]
    public void Tls_enabled_false_in_the_environment_wins_over_the_local_marker_file()
    {
        var tls = CliContext.ResolveTls(Configuration(("Shards:Tls:Enabled", "false")), () => s_local);

        Assert.Null(tls);
    }

    [Fact]
    public void Tls_enabled_true_with_a_certificate_uses_the_configured_certificate_not_the_local_one()
    {
        var tls = CliContext.ResolveTls(Configuration(("Shards:Tls:Enabled", "true"), ("Shards:Tls:CertificatePath", "/mine.pfx")), () => s_local);

        Assert.Equal("/mine.pfx", tls?.CertificatePath);
    }

    [Fact]
    public void Without_tls_configuration_the_local_marker_decides()
    {
        Assert.Same(s_local, CliContext.ResolveTls(Configuration(), () => s_local));
        Assert.Null(CliContext.ResolveTls(Configuration(), () => null));
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();
}
