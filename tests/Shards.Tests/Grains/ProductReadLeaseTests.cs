using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;
using Shards.Contracts;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Grains.Catalog;
using Shards.Placement;
using Shards.Server.ReadLeases;

namespace Shards.Tests.Grains;

/// <summary>A two-silo in-process cluster with product read leases of <see cref="Lease"/>, in-memory storage.</summary>
public sealed class ReadLeaseClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(600);

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddConsistentHashPlacement();
            silo.AddMemoryGrainStorage(StorageNames.Catalog);
            silo.AddMemoryGrainStorage(StorageNames.Carts);
            silo.AddProductReadLeases(new ProductReadLeaseOptions { Duration = Lease });
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ProductReadLeaseTests(ReadLeaseClusterFixture fixture) : IClassFixture<ReadLeaseClusterFixture>
{
    private IProductGrain Product(string sku) => fixture.Client.GetGrain<IProductGrain>(sku);

    private (SiloAddress Silo, ProductReplicas Replicas) Silo(int index)
    {
        var silo = fixture.Cluster.Silos[index];
        return (silo.SiloAddress, silo.ServiceProvider.GetRequiredService<ProductReplicas>());
    }

    private async Task<string> CreatedAsync()
    {
        var sku = Keys.New("sku");
        await Product(sku).UpsertAsync(new ProductDefinition("Widget", 2m, 10));
        return sku;
    }

    private async Task<ProductSnapshot> LeaseToAsync(int silo, string sku)
    {
        var (address, replicas) = Silo(silo);
        var asked = replicas.Asking();
        var leased = await Product(sku).ReadLeasedAsync(address);
        Assert.Equal(ReadLeaseClusterFixture.Lease, leased.Lease);
        Assert.True(replicas.Keep(sku, leased.Product!, leased.Lease, asked));
        return leased.Product!;
    }

    [Fact]
    public async Task Every_silos_copy_is_dropped_before_a_change_is_acknowledged()
    {
        var sku = await CreatedAsync();
        var before = await LeaseToAsync(0, sku);
        await LeaseToAsync(1, sku);
        Assert.Equal(before, Silo(0).Replicas.TryRead(sku));

        var changed = await Product(sku).UpsertAsync(new ProductDefinition("Gadget", 3m, 5));

        Assert.Equal(before.Version + 1, changed.Version);
        Assert.Null(Silo(0).Replicas.TryRead(sku));
        Assert.Null(Silo(1).Replicas.TryRead(sku));
        Assert.Equal(changed, await LeaseToAsync(0, sku)); // leased again, after the change
    }

    [Fact]
    public async Task A_change_waits_out_the_lease_of_a_holder_that_does_not_answer()
    {
        var sku = await CreatedAsync();
        var nowhere = SiloAddress.New(IPAddress.Loopback, 9, 1); // no silo there: the revocation is never confirmed
        Assert.Equal(ReadLeaseClusterFixture.Lease, (await Product(sku).ReadLeasedAsync(nowhere)).Lease);
        var watch = Stopwatch.StartNew();

        await Product(sku).ReserveAsync(1);

        Assert.InRange(watch.Elapsed, ReadLeaseClusterFixture.Lease - TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));
        watch.Restart();
        await Product(sku).ReleaseAsync(1); // that lease is over: nothing to wait for
        Assert.True(watch.Elapsed < ReadLeaseClusterFixture.Lease, $"the second change took {watch.Elapsed}");

        // A request of that silo still queued (sent before it was cut off) gets its answer but no lease, so the next
        // change does not wait again.
        var again = await Product(sku).ReadLeasedAsync(nowhere);
        Assert.Equal(TimeSpan.Zero, again.Lease);
        Assert.NotNull(again.Product);
        watch.Restart();
        await Product(sku).ReserveAsync(1);
        Assert.True(watch.Elapsed < ReadLeaseClusterFixture.Lease, $"the third change took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_carts_price_comes_from_its_silos_copy_and_follows_every_change()
    {
        var sku = await CreatedAsync(); // price 2
        var cart = fixture.Client.GetGrain<ICartGrain>(Keys.New("cart"));
        var where = await cart.WhereAsync();
        var home = fixture.Cluster.Silos[0].SiloAddress.ToString() == where.Silo ? 0 : 1;
        var replicas = Silo(home).Replicas;

        Assert.Equal(2m, (await cart.AddAsync(sku, 1)).Lines.Single().UnitPrice);
        Assert.Equal(2m, replicas.TryRead(sku)?.Price); // the cart's read left a leased copy on its silo

        // The next price is read from that copy, not from the grain: a copy with another price shows it.
        var copy = replicas.TryRead(sku)!;
        Assert.True(replicas.Keep(sku, copy with { Price = 5m }, ReadLeaseClusterFixture.Lease, replicas.Asking()));
        Assert.Equal(5m, (await cart.SetQuantityAsync(sku, 2)).Lines.Single().UnitPrice);

        // A change of the product revokes the copy before it is acknowledged: the next price is the new one.
        await Product(sku).UpsertAsync(new ProductDefinition("Widget", 3m, 10));
        Assert.Null(replicas.TryRead(sku));
        Assert.Equal(3m, (await cart.SetQuantityAsync(sku, 3)).Lines.Single().UnitPrice);
        Assert.Equal(3m, replicas.TryRead(sku)?.Price);
    }

    [Fact]
    public async Task A_product_that_does_not_exist_is_not_leased()
    {
        var leased = await Product(Keys.New("sku")).ReadLeasedAsync(Silo(0).Silo);

        Assert.Null(leased.Product);
        Assert.Equal(TimeSpan.Zero, leased.Lease);
    }

    [Fact]
    public async Task A_new_activation_revokes_on_every_active_silo_the_copies_an_earlier_one_leased()
    {
        var sku = Keys.New("sku");
        var grants = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<ProductReadLeaseGrants>();
        foreach (var index in new[] { 0, 1 })
        {
            Assert.True(Silo(index).Replicas.Keep(sku, new ProductSnapshot(sku, "Widget", 2m, 10, 1), ReadLeaseClusterFixture.Lease, Silo(index).Replicas.Asking()));
        }

        var fresh = new ProductReadLeases(grants, sku);
        await fresh.RevokeAllAsync(); // knows no holder, covers no earlier activation: revokes nothing
        Assert.NotNull(Silo(0).Replicas.TryRead(sku));

        var activated = new ProductReadLeases(grants, sku);
        activated.CoverEarlierActivations();
        await activated.RevokeAllAsync();

        Assert.Null(Silo(0).Replicas.TryRead(sku));
        Assert.Null(Silo(1).Replicas.TryRead(sku));
    }
}

[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(ShardsClusterCollection.Name)]
public sealed class ProductReadLeasesOffTests(ShardsClusterFixture fixture)
{
    [Fact]
    public async Task Without_read_leases_a_read_grants_none()
    {
        var sku = Keys.New("sku");
        var product = fixture.Client.GetGrain<IProductGrain>(sku);
        var created = await product.UpsertAsync(new ProductDefinition("Widget", 2m, 10));

        var leased = await product.ReadLeasedAsync(fixture.Cluster.Silos[0].SiloAddress);

        Assert.Equal(created, leased.Product);
        Assert.Equal(TimeSpan.Zero, leased.Lease);
    }
}

[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ProductReadLeaseDeclaredDeadTests(ReadLeaseClusterFixture fixture) : IClassFixture<ReadLeaseClusterFixture>
{
    [Fact]
    public async Task A_holder_declared_dead_is_not_waited_out()
    {
        var services = fixture.Cluster.Silos[0].ServiceProvider;
        var dead = SiloAddress.New(IPAddress.Loopback, 9, 2); // answers nothing, and the membership view has it Dead
        var grants = new ProductReadLeaseGrants(
            new ProductReadLeaseOptions { Duration = TimeSpan.FromSeconds(30) },
            TimeProvider.System,
            services.GetRequiredService<ProductReadLeaseHolders>(),
            new DeclaredDead(services.GetRequiredService<IClusterMembershipService>(), dead),
            services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ProductReadLeaseGrants>.Instance);
        var leases = new ProductReadLeases(grants, Keys.New("sku"));
        leases.Grant(dead);
        var watch = Stopwatch.StartNew();

        await leases.RevokeAllAsync();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the revocation took {watch.Elapsed} of a 30 s lease");
    }

    /// <summary>The real membership, with one more silo in it, declared dead.</summary>
    private sealed class DeclaredDead(IClusterMembershipService real, SiloAddress dead) : IClusterMembershipService
    {
        public ClusterMembershipSnapshot CurrentSnapshot
        {
            get
            {
                var snapshot = real.CurrentSnapshot;
                return new ClusterMembershipSnapshot(
                    snapshot.Members.Add(dead, new ClusterMember(dead, SiloStatus.Dead, "dead-silo")), snapshot.Version);
            }
        }

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => real.MembershipUpdates;

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) =>
            real.Refresh(minimumVersion, cancellationToken);

        public Task<bool> TryKill(SiloAddress siloAddress) => real.TryKill(siloAddress);
    }
}
