using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shards.Client;
using Shards.Contracts.Carts;
using Shards.Load;
using Shards.Postgres;
using Shards.Tests.Api;

namespace Shards.Tests.Faults;

/// <summary>
/// PostgreSQL stopped under load (<c>shards load --chaos pg-restart</c>'s chaos, 8 s here), against a real silo on a
/// private PostgreSQL through the real Shards client: the silo stays up, writes during the outage fail with the clear
/// storage error (never reported as successful), reads of active grains keep working, writes recover by themselves
/// once PostgreSQL is back, and no acknowledged write is lost or applied twice.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
[Collection(Shards.Tests.Infrastructure.HeavyProcessesCollection.Name)]
public sealed class PostgresOutageTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan s_outage = TimeSpan.FromSeconds(8);

    [Fact(Timeout = 240_000)]
    public async Task Under_load_a_postgres_restart_fails_writes_clearly_keeps_reads_and_loses_nothing()
    {
        await using var postgres = await StoppablePostgres.StartAsync();
        var connectionString = await postgres.CreateDatabaseAsync("outage");
        var clusterId = $"outage-{Guid.NewGuid():N}"[..14];
        await using var silo = ApiSilo.Start(connectionString, $"Shards:Cluster:ClusterId={clusterId}", "Shards:Silo:Name=outage-silo");
        await silo.Started;
        using var client = await ConnectAsync(connectionString, new ShardsClusterOptions { ClusterId = clusterId });
        var grains = client.Services.GetRequiredService<IClusterClient>();
        var options = new LoadOptions
        {
            Concurrency = 8,
            Duration = TimeSpan.FromSeconds(24),
            Keys = 200,
            WritePercent = 50,
            Chaos = [ChaosMode.PgRestart],
            ChaosAt = TimeSpan.FromSeconds(4),
            Outage = s_outage,
        };

        var chaos = new OutageRecordingChaos(new PostgresRestartChaos(postgres.Server, s_outage));
        var report = await new LoadRunner(new OrleansLoadTarget(grains), options, chaos).RunAsync(CancellationToken.None);
        output.WriteLine(LoadReportText.Format(report));

        // The report's outage is the one the chaos made: between the moments the runner can have noted its start and
        // end, measured around those notes (no allowance for a slow machine), and PostgreSQL stayed down for the outage.
        var outage = Assert.IsType<DependencyOutage>(report.Chaos?.Outage);
        Assert.True(chaos.Ended, "PostgreSQL was never started again");
        Assert.NotNull(outage.BackAtSeconds);
        Assert.InRange(outage.DownSeconds!.Value, chaos.Shortest.TotalSeconds - 1e-6, chaos.Longest.TotalSeconds + 1e-6);
        Assert.True(outage.DownSeconds >= s_outage.TotalSeconds - 0.5, $"PostgreSQL was down {outage.DownSeconds} s, not the {s_outage.TotalSeconds} s outage");
        Assert.True(outage.WritesDuring.Failed > 0, "no write failed while PostgreSQL was down");
        var storageFailure = Assert.Single(report.Failures, f => f.Kind == "ShardsException(StorageUnavailable)");
        Assert.Contains("outcome is unknown", storageFailure.Example, StringComparison.Ordinal);
        Assert.True(outage.ReadsDuring.Ok > 0, "no read of an active cart answered while PostgreSQL was down");
        Assert.Equal(0, outage.ReadsDuring.Failed);
        Assert.NotNull(outage.RecoverySeconds);
        Assert.True(outage.RecoverySeconds < 10, $"writes took {outage.RecoverySeconds} s to recover");
        Assert.Equal((0, 0, 0), (report.WriteCheck.Lost, report.WriteCheck.Duplicated, report.WriteCheck.CartsUnreadable));
        Assert.True(report.WriteCheck.Acknowledged > 0);
        Assert.True(report.Passed);

        // The silo never left: the same incarnation is Active, and takes writes again.
        Assert.False(silo.Started.IsFaulted);
        var row = Assert.Single(await MembershipTableReader.ReadAsync(connectionString, clusterId));
        Assert.Equal(SiloStatusCode.Active, row.Status);
        var after = await grains.GetGrain<ICartGrain>("cart-after-outage").AddAsync("load-sku-001", 1);
        Assert.Equal(1, after.Version);
    }

    private static async Task<IHost> ConnectAsync(string connectionString, ShardsClusterOptions cluster)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.AddShardsClient(connectionString, cluster);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
