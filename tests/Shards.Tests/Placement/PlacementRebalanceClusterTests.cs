using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Placement;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Placement;

/// <summary>
/// Consistent-hash placement on a real cluster (three in-process silos on PostgreSQL): every product activates on
/// its home silo, and after a fourth silo joins, the live activations whose home is now the new silo are migrated
/// there by the rebalancer (not only new keys), while the others stay where they were.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class PlacementRebalanceClusterTests(PostgresClusterFixture fixture) : IClassFixture<PostgresClusterFixture>
{
    private static readonly TimeSpan MigrationDeadline = TimeSpan.FromSeconds(45);

    [Fact(Timeout = 120_000)]
    public async Task After_a_fourth_silo_joins_the_keys_whose_home_it_is_are_activated_there()
    {
        var grains = fixture.Cluster.Client;
        var (skus, before, joined, movers) = await ActivateThenAddASiloAsync(fixture);
        Assert.All(fixture.Cluster.Silos, silo => Assert.True(Rebalancer(silo).IsRunning, $"{silo.Name}'s rebalancer is not running"));

        var deadline = DateTime.UtcNow + MigrationDeadline;
        List<string> notThereYet;
        do
        {
            notThereYet = [];
            foreach (var sku in movers)
            {
                if ((await grains.GetGrain<IProductGrain>(sku).WhereAsync()).Silo != joined.SiloAddress.ToString())
                {
                    notThereYet.Add(sku);
                }
            }

            if (notThereYet.Count > 0)
            {
                await Task.Delay(250);
            }
        }
        while (notThereYet.Count > 0 && DateTime.UtcNow < deadline);

        Assert.True(notThereYet.Count == 0, $"{notThereYet.Count} of {movers.Count} keys whose home is the new silo are still elsewhere after {MigrationDeadline.TotalSeconds} s: {string.Join(", ", notThereYet.Take(5))}");
        foreach (var sku in skus.Except(movers))
        {
            var now = await grains.GetGrain<IProductGrain>(sku).WhereAsync();
            Assert.Equal(before[sku].Silo, now.Silo);
            Assert.Equal(before[sku].ActivatedAt, now.ActivatedAt); // the same activation: it was not moved or restarted
        }
    }

    internal static HomeRebalancer Rebalancer(Orleans.TestingHost.InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<HomeRebalancer>();

    /// <summary>
    /// Activates 120 products on three silos (each on its home there), starts a fourth silo and returns the keys whose
    /// home it now is.
    /// </summary>
    internal static async Task<(List<string> Skus, Dictionary<string, GrainLocation> Before, Orleans.TestingHost.InProcessSiloHandle Joined, List<string> Movers)>
        ActivateThenAddASiloAsync(PostgresClusterFixture cluster)
    {
        var grains = cluster.Cluster.Client;
        var skus = Enumerable.Range(1, 120).Select(i => $"sku-home-{i:D3}").ToList();
        var threeSilos = new SiloRing(cluster.Cluster.Silos.Select(s => s.SiloAddress));
        var before = new Dictionary<string, GrainLocation>();
        foreach (var sku in skus)
        {
            before[sku] = await grains.GetGrain<IProductGrain>(sku).WhereAsync();
            Assert.Equal(threeSilos.HomeOf(GrainId.Create("product", sku)).ToString(), before[sku].Silo);
        }

        var joined = await cluster.Cluster.StartAdditionalSiloAsync();
        await cluster.Cluster.WaitForLivenessToStabilizeAsync();
        var fourSilos = new SiloRing(cluster.Cluster.Silos.Select(s => s.SiloAddress));
        var movers = skus.Where(s => fourSilos.HomeOf(GrainId.Create("product", s)).Equals(joined.SiloAddress)).ToList();
        Assert.InRange(movers.Count, 10, 60); // about a quarter of 120
        return (skus, before, joined, movers);
    }
}

/// <summary>A cluster whose silos do not rebalance (<c>Shards:Placement:Rebalance=false</c>).</summary>
public sealed class NoRebalanceClusterFixture : PostgresClusterFixture
{
    protected override void ConfigureSilo(ISiloBuilder silo) => silo.Services.Configure<PlacementOptions>(o => o.Rebalance = false);
}

/// <summary>Without the rebalancer, live activations stay where they are when a silo joins: the new silo gets only new keys.</summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class NoRebalanceClusterTests(NoRebalanceClusterFixture fixture) : IClassFixture<NoRebalanceClusterFixture>
{
    [Fact(Timeout = 120_000)]
    public async Task With_rebalancing_off_live_activations_stay_on_their_old_silo_after_a_silo_joins()
    {
        var (_, before, joined, movers) = await PlacementRebalanceClusterTests.ActivateThenAddASiloAsync(fixture);

        // Nothing else moves a live activation, and no silo (the new one included) runs the rebalancer: so what stays
        // now stays, and there is nothing to wait for. With rebalancing on, every silo runs it (the test above checks).
        Assert.All(fixture.Cluster.Silos, silo => Assert.False(PlacementRebalanceClusterTests.Rebalancer(silo).IsRunning, $"{silo.Name} rebalances"));
        foreach (var sku in movers)
        {
            var now = await fixture.Cluster.Client.GetGrain<IProductGrain>(sku).WhereAsync();
            Assert.Equal(before[sku].Silo, now.Silo);
        }

        var newKey = Enumerable.Range(1, 200).Select(i => $"sku-new-{i}")
            .First(s => new SiloRing(fixture.Cluster.Silos.Select(x => x.SiloAddress)).HomeOf(GrainId.Create("product", s)).Equals(joined.SiloAddress));
        Assert.Equal(joined.SiloAddress.ToString(), (await fixture.Cluster.Client.GetGrain<IProductGrain>(newKey).WhereAsync()).Silo);
    }
}
