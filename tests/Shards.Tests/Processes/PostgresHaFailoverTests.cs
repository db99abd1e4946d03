using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shards.Client;
using Shards.Contracts.Catalog;
using Shards.Contracts.Listing;
using Shards.LocalCluster;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Processes;

/// <summary>
/// The private pg_auto_failover formation (<c>shards db start --ha</c>) under writes: two silo processes on it, writers
/// creating products, the primary node SIGKILLed (keeper and PostgreSQL), and every acknowledged write read back from
/// the databases (no grain activation) once the standby is the primary; no silo died or was declared dead. Needs
/// pg_auto_failover (tests/run installs it): without it the test fails, it never skips. Bounded in time; every process
/// it starts is stopped (a watchdog kills the formation if the test process dies).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
[Collection(HeavyProcessesCollection.Name)]
public sealed class PostgresHaFailoverTests
{
    [Fact(Timeout = 300_000)]
    public async Task Killing_the_primary_loses_no_acknowledged_write_and_no_silo()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var ct = timeout.Token;
        Assert.True(PostgresHaFormation.IsInstalled, $"pg_autoctl is not installed: {PostgresHaFormation.InstallCommand} (tests/run installs it).");
        var root = Path.Combine(Path.GetTempPath(), $"shards-tests-ha-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        var formation = PostgresHaFormation.Create(new PostgresHaOptions { Directory = root });
        formation.DestroyWhenProcessExits(Environment.ProcessId);
        var logs = Path.Combine(Path.GetTempPath(), $"shards-ha-logs-{Guid.NewGuid():N}");
        try
        {
            var connectionString = await formation.StartAsync(ct);
            using (var dataSources = new PostgresDataSources())
            {
                await new SchemaMigrator(dataSources.For(connectionString)).ApplyAsync(ct);
            }

            var before = await formation.GetStatusAsync(ct);
            var primary = Assert.Single(before.Nodes, n => n.IsPrimary);
            Assert.Single(before.Nodes, n => n.IsSecondary);

            var cluster = new ShardsClusterOptions { ClusterId = "ha-test", ServiceId = "ha-test" };
            await using var launcher = new ClusterLauncher(new LauncherOptions
            {
                SiloCount = 2,
                ConnectionString = connectionString,
                ClusterId = cluster.ClusterId,
                ServiceId = cluster.ServiceId,
                RestartCrashedSilos = false,
                LogDirectory = logs,
            });
            await launcher.StartAsync(ct);
            var siloPids = launcher.Silos.Select(s => s.Pid).ToList();
            var generations = (await MembershipTableReader.ReadAsync(connectionString, cluster.ClusterId, ct)).ToDictionary(r => r.Port, r => r.Generation);

            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.AddShardsClient(connectionString, cluster);
            using var clientHost = builder.Build();
            await clientHost.StartAsync(ct);
            var grains = clientHost.Services.GetRequiredService<IClusterClient>();

            // Writers: each creates new products one after another; a write that returned is acknowledged.
            var acknowledged = new ConcurrentBag<string>();
            var failed = 0;
            using var stopWriters = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                for (var i = 0; !stopWriters.IsCancellationRequested; i++)
                {
                    var sku = $"sku-ha-{w}-{i:D5}";
                    try
                    {
                        await grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition($"Item {sku}", 5m, 10), stopWriters.Token);
                        acknowledged.Add(sku);
                    }
                    catch (Exception) when (!stopWriters.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref failed); // outcome unknown: allowed to be there or not
                        await Task.Delay(50, CancellationToken.None);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            })).ToList();

            await Task.Delay(TimeSpan.FromSeconds(3), ct);
            var beforeKill = acknowledged.Count;
            Assert.True(formation.KillNode(primary.Name), $"{primary.Name} was not running");

            // The standby takes over; writes go on until well after it did.
            PostgresHaNodeStatus? promoted = null;
            while (promoted is null)
            {
                promoted = (await formation.GetStatusAsync(ct)).Nodes.FirstOrDefault(n => n.IsPrimary && n.Name != primary.Name && n.ReportedState == n.AssignedState);
                await Task.Delay(100, ct);
            }

            var atPromotion = acknowledged.Count;
            await Task.Delay(TimeSpan.FromSeconds(6), ct);
            await stopWriters.CancelAsync();
            await Task.WhenAll(writers);
            Assert.True(beforeKill > 0, "no write was acknowledged before the kill");
            Assert.True(acknowledged.Count > atPromotion, $"no write was acknowledged after the promotion ({failed} failed)");

            // Every acknowledged product is in the databases: the listing reads them through the new primary.
            var stored = new HashSet<string>(StringComparer.Ordinal);
            var listing = grains.GetGrain<IStoreListingGrain>(0);
            string? after = null;
            do
            {
                var page = await ClusterCallRetry.RunAsync(() => listing.ProductsAsync(after, ListingLimits.MaxLimit), TimeSpan.FromSeconds(60), ct);
                stored.UnionWith(page.Items.Select(p => p.Sku));
                after = page.Next;
            }
            while (after is not null);

            var lost = acknowledged.Where(sku => !stored.Contains(sku)).ToList();
            Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged writes lost after the failover, e.g. {string.Join(", ", lost.Take(5))}");

            // No silo died or was declared dead while the membership table moved to the other node.
            Assert.Equal(siloPids, launcher.Silos.Select(s => s.Pid).ToList());
            var rows = await MembershipTableReader.ReadAsync(connectionString, cluster.ClusterId, ct);
            Assert.All(rows, r => Assert.Equal(SiloStatusCode.Active, r.Status));
            Assert.All(rows, r => Assert.Equal(generations[r.Port], r.Generation));

            await clientHost.StopAsync(CancellationToken.None);
            await launcher.StopAsync();
            Assert.All(launcher.Silos, s => Assert.Null(s.Pid));
        }
        finally
        {
            await formation.DestroyAsync(CancellationToken.None);
            if (Directory.Exists(logs))
            {
                Directory.Delete(logs, recursive: true);
            }
        }

        Assert.False(Directory.Exists(root));
    }
}
