using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Shards.Grains.Orders;
using Shards.Grains.Payments;
using Shards.Postgres;
using Shards.Server.Payments;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Checkout;

/// <summary>
/// Three in-process silos on PostgreSQL, wired like real silos (the simulated gateway and its ledger included), with
/// quick saga retries and a 1 s gateway timeout; the gateway can hold a charge's answer (<see cref="HoldingPaymentGateway"/>).
/// </summary>
public class CheckoutClusterFixture : PostgresClusterFixture
{
    public static readonly TimeSpan GatewayTimeout = TimeSpan.FromSeconds(1);

    protected override void ConfigureSilo(ISiloBuilder silo)
    {
        silo.Services.Configure<CheckoutOptions>(o => o.RetryDelay = TimeSpan.FromMilliseconds(200));
        silo.Services.Configure<PaymentOptions>(o => o.GatewayTimeout = GatewayTimeout);
        silo.Services.AddSingleton<IPaymentGateway>(services => new HoldingPaymentGateway(new SimulatedPaymentGateway(
            services.GetRequiredService<PostgresDataSources>().For(ConnectionString),
            services.GetRequiredService<IOptions<ClusterOptions>>(),
            services.GetRequiredService<IOptions<SimulatedPaymentGatewayOptions>>(),
            TimeProvider.System)));
    }
}

/// <summary>A checkout cluster of its own, for a test that kills silos.</summary>
public sealed class CheckoutKillFixture : CheckoutClusterFixture;

/// <summary>A checkout cluster of its own, for the chaos test.</summary>
public sealed class CheckoutChaosFixture : CheckoutClusterFixture;

/// <summary>A checkout cluster whose PostgreSQL is a server of its own, which the test restarts.</summary>
public sealed class CheckoutRestartFixture : CheckoutClusterFixture
{
    public ExtraPostgresServer Server { get; private set; } = null!;

    protected override async Task<string> CreateMainDatabaseAsync()
    {
        Server = await ExtraPostgresServer.StartAsync();
        return await Server.CreateDatabaseAsync("restart");
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}
