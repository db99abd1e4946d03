using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shards.Client;
using Shards.Contracts.Catalog;
using Shards.LocalCluster;
using Shards.LocalCluster.Hosts;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;
using Shards.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Shards.Tests.Processes;

/// <summary>
/// Three silo processes and a private PostgreSQL, each in a network namespace of its own (as <c>shards cluster up --hosts 3</c>
/// runs them), and a network fault on the silo that hosts the most products: <c>partition</c> (cut from the other silos,
/// not from PostgreSQL) or <c>isolate</c> (cut from everything). Never skipped: where namespaces cannot be made (not
/// root, no iproute2 or nftables) it fails and says why. Bounded in time; every process, namespace and link it makes is
/// removed (a watchdog removes them if the test host dies).
/// </summary>
[Trait(TestCategories.Name, TestCategories.Process)]
[Collection(HeavyProcessesCollection.Name)]
public sealed class NetworkPartitionProcessTests(ITestOutputHelper output)
{
    private const int Products = 60;

    [Theory(Timeout = 300_000)]
    [InlineData("partition")]
    [InlineData("isolate")]
    public async Task A_silo_cut_off_loses_no_acknowledged_write_its_keys_answer_from_the_majority_and_it_comes_back_after_the_heal(string fault)
    {
        if (NetworkFaults.WhyUnavailable() is { } why)
        {
            Assert.Fail($"This test runs silos in network namespaces and is never skipped, but it cannot make them here: {why}");
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var ct = timeout.Token;
        var id = $"netns-{Guid.NewGuid():N}"[..14];
        var root = Path.Combine(Path.GetTempPath(), $"shards-{id}");
        var network = HostNetwork.For(id, root);
        network.RemoveWhenProcessExits(Environment.ProcessId);
        var postgres = PrivatePostgresServer.Create(new PrivatePostgresOptions { Directory = Path.Combine(root, "postgres"), Database = "shards" });
        postgres.DestroyWhenProcessExits(Environment.ProcessId);
        try
        {
            await network.CreateAsync(3, ct);
            var connectionString = await postgres.StartAsync(new PostgresPlacement(network.Postgres.Namespace, network.Postgres.Address, network.Cidr), ct);
            await new SchemaMigrator(new PostgresDataSources().For(connectionString)).ApplyAsync(ct);
            await RunAsync(fault, network, connectionString, root, id, ct);
        }
        finally
        {
            await postgres.DestroyAsync(CancellationToken.None);
            await network.RemoveAsync(CancellationToken.None);
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true); // the silos' logs
            }

            Assert.Empty(await network.NamespacesAsync(CancellationToken.None));
            Assert.Empty(await network.LinksAsync(CancellationToken.None));
        }
    }

    private async Task RunAsync(string fault, HostNetwork network, string connectionString, string root, string id, CancellationToken ct)
    {
        var cluster = new ShardsClusterOptions { ClusterId = id, ServiceId = id };
        await using var launcher = new ClusterLauncher(new LauncherOptions
        {
            SiloCount = 3,
            ConnectionString = connectionString,
            ClusterId = cluster.ClusterId,
            ServiceId = cluster.ServiceId,
            Hosts = network,
            LogDirectory = Path.Combine(root, "logs"),
        });
        await launcher.StartAsync(ct);
        Assert.All(launcher.Silos, s => Assert.StartsWith(network.Subnet + ".", s.AdvertisedAddress, StringComparison.Ordinal));

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.AddShardsClient(connectionString, cluster, new ShardsClientOptions { GatewayListRefreshPeriod = TimeSpan.FromSeconds(1) });
        using var clientHost = builder.Build();
        await clientHost.StartAsync(ct);
        var grains = clientHost.Services.GetRequiredService<IClusterClient>();

        var skus = Enumerable.Range(1, Products).Select(i => $"sku-{fault}-{i:D3}").ToList();
        await Parallel.ForEachAsync(skus, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (sku, token) =>
            await grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition($"Item {sku}", 9.99m, 40), token));
        var homes = new Dictionary<string, string>();
        foreach (var sku in skus)
        {
            homes[sku] = (await grains.GetGrain<IProductGrain>(sku).WhereAsync(ct)).SiloName;
        }

        var victim = launcher.Silos.MaxBy(s => homes.Values.Count(h => h == s.Name))!;
        var others = launcher.Silos.Where(s => s != victim).ToList();
        var generation = victim.Joined!.Generation;
        var cut = Stopwatch.StartNew();
        if (fault == "partition")
        {
            await NetworkFaults.CutAsync(victim.Host!.Namespace, [.. others.Select(s => s.AdvertisedAddress)], ct);
        }
        else
        {
            await NetworkFaults.IsolateAsync(victim.Host!.Namespace, ct);
        }

        // Every key of the cut-off silo answers again from a silo of the majority; every product takes a new price
        // (acknowledged during the fault).
        var victimSkus = skus.Where(s => homes[s] == victim.Name).ToList();
        var recovered = TimeSpan.Zero;
        await Parallel.ForEachAsync(victimSkus, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (sku, token) =>
        {
            while (true)
            {
                var location = await ClusterCallRetry.RunAsync(() => grains.GetGrain<IProductGrain>(sku).WhereAsync(token), TimeSpan.FromSeconds(60), token);
                if (location.SiloName != victim.Name)
                {
                    lock (homes)
                    {
                        recovered = cut.Elapsed > recovered ? cut.Elapsed : recovered;
                    }

                    return;
                }

                await Task.Delay(100, token);
            }
        });
        output.WriteLine($"{fault}: {victimSkus.Count} keys of {victim.Name} answered from the majority {recovered.TotalSeconds:0.00} s after the cut");
        await Parallel.ForEachAsync(skus, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (sku, token) =>
            await ClusterCallRetry.RunAsync(
                () => grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition($"Item {sku}", 19.99m, 40), token), TimeSpan.FromSeconds(60), token));

        await NetworkFaults.HealAsync(victim.Host.Namespace, ct);
        var healed = Stopwatch.StartNew();

        // The cut-off silo learns that it was declared dead, exits, and the launcher starts it again: Active, new generation.
        while (victim.Joined is not { } joined || joined.Generation == generation || victim.State != SupervisedSiloState.Running)
        {
            Assert.True(healed.Elapsed < TimeSpan.FromSeconds(120), $"{victim.Name} was not Active again within 120 s of the heal");
            await Task.Delay(200, ct);
        }

        output.WriteLine($"{fault}: {victim.Name} Active again {healed.Elapsed.TotalSeconds:0.00} s after the heal");
        foreach (var sku in skus)
        {
            var snapshot = await ClusterCallRetry.RunAsync(() => grains.GetGrain<IProductGrain>(sku).GetAsync(ct), TimeSpan.FromSeconds(60), ct);
            Assert.Equal(19.99m, snapshot!.Price);
        }

        // Only the cut-off silo was declared dead: none of the majority.
        var rows = await MembershipTableReader.ReadAsync(connectionString, cluster.ClusterId, ct);
        var dead = rows.Where(r => r.Status == SiloStatusCode.Dead).ToList();
        Assert.All(dead, r => Assert.Equal(victim.Name, r.SiloName));
        Assert.All(others, s => Assert.Contains(rows, r => r.Generation == s.Joined!.Generation && r.Status == SiloStatusCode.Active));
        Assert.True(recovered < TimeSpan.FromSeconds(30), $"the keys of {victim.Name} answered from the majority only {recovered.TotalSeconds:0.0} s after the cut");

        await clientHost.StopAsync(CancellationToken.None);
        await launcher.StopAsync();
        Assert.All(launcher.Silos, s => Assert.Null(s.Pid));
    }
}
