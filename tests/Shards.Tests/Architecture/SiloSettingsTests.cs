using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Hosting.Kubernetes;
using Shards.Server.Options;
using Shards.Server.Silo;
using Shards.Storage.Postgres;

namespace Shards.Tests.Architecture;

/// <summary>A silo binds each settings section once and checks it with the section's validator class before it starts.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class SiloSettingsTests
{
    private const string Database = "--ConnectionStrings:Shards=Host=127.0.0.1;Database=none";

    [Theory]
    [InlineData("Shards:FailureDetection:MissedProbesLimit=0", "MissedProbesLimit")]
    [InlineData("Shards:Storage:MapLease=00:00:01", "MapLease")]
    [InlineData("Shards:Silo:GatewayPort=11111", "must differ")]
    [InlineData("Shards:Telemetry:TraceSampleRatio=2", "TraceSampleRatio")]
    public void A_bad_setting_stops_the_silo_before_it_is_built(string setting, string named)
    {
        var refused = Assert.Throws<OptionsValidationException>(() => ShardsSiloHost.Build([Database, $"--{setting}"]));

        Assert.Contains(named, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubernetes_hosting_is_off_unless_the_setting_turns_it_on()
    {
        var wired = true;
        await using var app = ShardsSiloHost.Build([Database], builder => wired = IsKubernetesHostingWired(builder.Services));

        Assert.False(wired);
    }

    [Fact]
    public void Kubernetes_hosting_is_wired_when_the_setting_turns_it_on_and_needs_the_pod_outside_a_pod()
    {
        var wired = false;

        // Outside a pod (no POD_NAMESPACE, POD_NAME, POD_IP) the silo stops while it is built, naming the variable.
        var refused = Assert.Throws<OptionsValidationException>(() =>
            ShardsSiloHost.Build([Database, "--Shards:Kubernetes:Enabled=true"], builder => wired = IsKubernetesHostingWired(builder.Services)));

        Assert.True(wired);
        Assert.Contains("POD_", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>UseKubernetesHosting registers the validator of its options (and its agent, which needs the API server).</summary>
    private static bool IsKubernetesHostingWired(IServiceCollection services) =>
        services.Any(d => d.ServiceType == typeof(IValidateOptions<KubernetesHostingOptions>));

    [Fact]
    public async Task Services_read_the_very_instance_the_silo_was_built_with()
    {
        await using var app = ShardsSiloHost.Build([Database, "--Shards:FailureDetection:MissedProbesLimit=5", "--Shards:Storage:CommandTimeout=00:00:07"]);

        var detection = app.Services.GetRequiredService<IOptions<FailureDetectionOptions>>().Value;
        Assert.Equal(5, detection.MissedProbesLimit);
        Assert.Same(detection, app.Services.GetRequiredService<IOptions<FailureDetectionOptions>>().Value);
        Assert.Equal(TimeSpan.FromSeconds(7), app.Services.GetRequiredService<IOptions<ShardsStorageOptions>>().Value.CommandTimeout);
    }
}
