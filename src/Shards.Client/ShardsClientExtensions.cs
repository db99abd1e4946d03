using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Shards.Postgres;

namespace Shards.Client;

/// <summary>Client wiring: gateways discovered from the PostgreSQL membership table (the service registry).</summary>
public static partial class ShardsClientExtensions
{
    /// <summary>
    /// An Orleans client for the cluster whose membership lives at <paramref name="connectionString"/>: gateways
    /// re-read every few seconds, a short per-attempt response timeout, and transparent retries of Shards calls (resent
    /// at once when a gateway connection drops, see <see cref="GatewayLossSignal"/>).
    /// With <paramref name="tls"/> (default: the <c>Shards:Tls</c> section of the builder's configuration) the
    /// gateway connections use TLS with the cluster certificate. The client's own reads of the membership table go
    /// through the host's <see cref="PostgresDataSources"/>: <paramref name="dataSources"/> when given (its owner disposes
    /// it, e.g. the CLI's), else one the host creates and disposes.
    /// </summary>
    public static IHostApplicationBuilder AddShardsClient(
        this IHostApplicationBuilder builder,
        string connectionString,
        ShardsClusterOptions cluster,
        ShardsClientOptions? clientOptions = null,
        ClusterTls? tls = null,
        PostgresDataSources? dataSources = null)
    {
        var options = clientOptions ?? new ShardsClientOptions();
        tls ??= ClusterTls.From(builder.Configuration.GetSection(ShardsTlsOptions.Section).Get<ShardsTlsOptions>());
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
            client.AddShardsCallResilience(options);
            client.Services.AddPostgresDataSources(dataSources);
            client.Services.AllowGrainCallCountersOnTheWire();
            client.Services.AddHostedService(services => new MembershipDeathWatch(
                services.GetRequiredService<PostgresDataSources>().For(connectionString), cluster.ClusterId, options, services.GetRequiredService<GatewayLossSignal>(), services.GetRequiredService<ILogger<MembershipDeathWatch>>()));
            if (tls is not null)
            {
                client.UseTls(tls.Certificate, tls.Configure);
            }

            client.UseAdoNetClustering(o =>
            {
                o.Invariant = AdoNetInvariants.PostgreSql;
                o.ConnectionString = connectionString;
            });

            var startedAt = DateTime.UtcNow;
            client.UseConnectionRetryFilter(async (exception, cancellationToken) =>
            {
                if (DateTime.UtcNow - startedAt > options.ConnectTimeout)
                {
                    return false;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                return true;
            });
        });
        return builder;
    }

    /// <summary>
    /// What makes a silo's death invisible to a client's callers, for any Orleans client (also a test cluster's): the
    /// gateway list re-read every <see cref="ShardsClientOptions.GatewayListRefreshPeriod"/>, the short per-attempt
    /// <see cref="ShardsClientOptions.ResponseTimeout"/>, and <see cref="TransientRetryFilter"/> with its
    /// <see cref="GatewayLossSignal"/>.
    /// </summary>
    public static IClientBuilder AddShardsCallResilience(this IClientBuilder client, ShardsClientOptions options)
    {
        client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = options.GatewayListRefreshPeriod);
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = options.ResponseTimeout);
        client.Services.AddSingleton(options);
        client.Services.AddSingleton<GatewayLossSignal>();
        client.Services.AddSingleton<IClusterConnectionStatusObserver>(services => services.GetRequiredService<GatewayLossSignal>());
        client.AddOutgoingGrainCallFilter<TransientRetryFilter>();
        return client;
    }
}
