using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Storage;
using Orleans.TestingHost;
using Shards.Contracts;
using Shards.Grains.Carts;
using Shards.Grains.Catalog;
using Shards.Grains.Orders;
using Shards.Grains.Payments;
using Shards.Placement;

namespace Shards.Tests.Checkout;

/// <summary>
/// One silo with in-memory storage behind <see cref="ControllableGrainStorage"/> for every service, in-memory
/// reminders with a 1 s period, a scripted payment gateway (which can also hold a charge, <see cref="HoldingPaymentGateway"/>),
/// quick saga retries and a short saga deadline: the checkout saga under faults that PostgreSQL cannot be made to
/// produce on demand.
/// </summary>
public sealed class SagaFaultsFixture : IAsyncLifetime
{
    public static readonly TimeSpan SagaDeadline = TimeSpan.FromSeconds(3);

    public static readonly TimeSpan GatewayTimeout = TimeSpan.FromMilliseconds(500);

    private const string InnerSuffix = "-inner";

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    internal ScriptedPaymentGateway Gateway { get; } = new();

    public ControllableGrainStorage Storage(string storageName) =>
        Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<ControllableGrainStorage>(storageName);

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddConsistentHashPlacement();
            foreach (var name in StorageNames.All)
            {
                silo.AddMemoryGrainStorage(name + InnerSuffix);
                silo.Services.AddKeyedSingleton(name, (services, key) =>
                    new ControllableGrainStorage(services.GetRequiredKeyedService<IGrainStorage>((string)key! + InnerSuffix)));
                silo.Services.AddKeyedSingleton<IGrainStorage>(name, (services, key) =>
                    services.GetRequiredKeyedService<ControllableGrainStorage>(key));
            }

            silo.UseInMemoryReminderService();
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            silo.Services.AddCatalogService().AddCartService().AddCheckoutService();
            silo.Services.Configure<CheckoutOptions>(o =>
            {
                o.RetryDelay = TimeSpan.FromMilliseconds(100);
                o.ReminderPeriod = TimeSpan.FromSeconds(1);
                o.SagaDeadline = SagaDeadline;
            });
            silo.Services.Configure<PaymentOptions>(o => o.GatewayTimeout = GatewayTimeout);
            silo.Services.AddSingleton<IPaymentGateway>(new HoldingPaymentGateway(Gateway));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
