using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shards.Client;
using Shards.Contracts.Catalog;
using Shards.LocalCluster;
using Shards.Postgres;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Processes;

/// <summary>
/// The real thing: three silo processes started by the launcher on a private PostgreSQL, a client, a SIGKILL.
/// Bounded in time; every process it starts is stopped (the launcher kills what does not stop).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
public sealed class MultiProcessFailoverTests
{
    [Fact(Timeout = 240_000)]
    public async Task Killing_a_silo_process_loses_no_written_value_and_marks_it_dead()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = timeout.Token;
        var connectionString = await TestPostgres.CreateDatabaseAsync("procs");
        var cluster = new ShardsClusterOptions { ClusterId = "proc-test", ServiceId = "proc-test" };
        var logs = Path.Combine(Path.GetTempPath(), $"shards-proc-logs-{Guid.NewGuid():N}");
        await using var launcher = new ClusterLauncher(new LauncherOptions
        {
            SiloCount = 3,
            ConnectionString = connectionString,
            ClusterId = cluster.ClusterId,
            ServiceId = cluster.ServiceId,
            RestartCrashedSilos = false,
            LogDirectory = logs,
        });
        await launcher.StartAsync(ct);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.AddShardsClient(connectionString, cluster);
        using var clientHost = builder.Build();
        await clientHost.StartAsync(ct);
        var grains = clientHost.Services.GetRequiredService<IClusterClient>();

        var skus = Enumerable.Range(1, 150).Select(i => $"sku-proc-{i:D4}").ToList();
        await Parallel.ForEachAsync(skus, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct }, async (sku, token) =>
            await grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition($"Item {sku}", 9.99m, 40), token));

        var homes = new Dictionary<string, string>();
        foreach (var sku in skus)
        {
            homes[sku] = (await grains.GetGrain<IProductGrain>(sku).WhereAsync()).SiloName;
        }

        var victim = launcher.Silos.MaxBy(s => homes.Values.Count(h => h == s.Name))!;
        Assert.True(launcher.Kill(victim), "SIGKILL was not delivered");

        foreach (var sku in skus)
        {
            var snapshot = await ClusterCallRetry.RunAsync(() => grains.GetGrain<IProductGrain>(sku).GetAsync(), TimeSpan.FromSeconds(90), ct);
            Assert.Equal(new ProductSnapshot(sku, $"Item {sku}", 9.99m, 40, 1), snapshot);
            if (homes[sku] == victim.Name)
            {
                var location = await ClusterCallRetry.RunAsync(() => grains.GetGrain<IProductGrain>(sku).WhereAsync(), TimeSpan.FromSeconds(90), ct);
                Assert.NotEqual(victim.Name, location.SiloName);
            }
        }

        MembershipRow? row = null;
        while (!ct.IsCancellationRequested)
        {
            var rows = await MembershipTableReader.ReadAsync(connectionString, cluster.ClusterId, ct);
            row = rows.Where(r => r.Port == victim.SiloPort).MaxBy(r => r.Generation);
            if (row?.Status == SiloStatusCode.Dead)
            {
                break;
            }

            await Task.Delay(200, ct);
        }

        Assert.Equal(SiloStatusCode.Dead, row?.Status);
        await clientHost.StopAsync(CancellationToken.None);
        await launcher.StopAsync();
        Assert.All(launcher.Silos, s => Assert.Null(s.Pid));
        Directory.Delete(logs, recursive: true);
    }
}
