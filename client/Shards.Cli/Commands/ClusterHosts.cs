using Shards.Cli.Core;
using Shards.LocalCluster.Hosts;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;

namespace Shards.Cli.Commands;

/// <summary>
/// <c>shards cluster up --hosts N</c>: the cluster's silos and its private PostgreSQL each on a simulated host (a network
/// namespace on a bridge of its own, see <see cref="HostNetwork"/>), built before anything starts and removed when the
/// launcher stops; what a launcher that crashed left behind is removed by the next <c>cluster up</c> or <c>cluster down</c>.
/// </summary>
internal static class ClusterHosts
{
    /// <summary>The network for <c>--hosts</c>, or a refusal that says why it cannot be had (before anything starts).</summary>
    public static HostNetwork Require(CliContext context)
    {
        if (HostNetwork.WhyUnavailable() is { } why)
        {
            throw new CliException($"--hosts cannot run here: {why}", ExitCodes.BadInput);
        }

        if (context.ConfiguredConnectionString is not null)
        {
            throw new CliException(
                "--hosts puts the private PostgreSQL on a host of its own; a configured PostgreSQL (ConnectionStrings__Shards, --connection) " +
                "stays where it is: leave that setting out to run with --hosts.", ExitCodes.BadInput);
        }

        return HostNetwork.For(context.Cluster.ClusterId);
    }

    /// <summary>The private PostgreSQL's place on <paramref name="network"/>.</summary>
    public static PostgresPlacement PostgresOn(HostNetwork network) =>
        new(network.Postgres.Namespace, network.Postgres.Address, network.Cidr);

    /// <summary>
    /// Removes the simulated hosts of cluster <paramref name="context"/>'s that an earlier <c>cluster up --hosts</c> left
    /// (its launcher was killed): the private PostgreSQL is stopped if it runs on one of them, then every namespace and
    /// link goes. Without root it only says what is left.
    /// </summary>
    public static async Task RemoveLeftoversAsync(CliContext context, CancellationToken cancellationToken)
    {
        if (!HostNetwork.HasIpCommand)
        {
            return;
        }

        var network = HostNetwork.For(context.Cluster.ClusterId);
        var left = (await network.NamespacesAsync(cancellationToken)).Concat(await network.LinksAsync(cancellationToken)).ToList();
        if (left.Count == 0)
        {
            return;
        }

        if (HostNetwork.WhyUnavailable() is { } why)
        {
            CliOutput.Status($"An earlier 'cluster up --hosts' left {string.Join(", ", left)}; run 'shards cluster down' as root to remove them ({why})");
            return;
        }

        var removed = await TearDownAsync(context, network, cancellationToken);
        CliOutput.Status($"Removed what an earlier 'cluster up --hosts' left behind: {string.Join(", ", removed)}.");
    }

    /// <summary>Stops the private PostgreSQL if it runs on <paramref name="network"/>, then removes every namespace and link of it.</summary>
    public static async Task<IReadOnlyList<string>> TearDownAsync(CliContext context, HostNetwork network, CancellationToken cancellationToken = default)
    {
        var stopped = new List<string>();
        if (context.ConfiguredConnectionString is null)
        {
            try
            {
                var server = PrivatePostgresServer.Create(context.PrivatePostgres);
                if (server.Host == network.Postgres.Address && (await server.GetStatusAsync(cancellationToken)).Running)
                {
                    await server.StopAsync(cancellationToken);
                    stopped.Add($"the private PostgreSQL on {network.Postgres.Address}");
                }
            }
            catch (Exception ex) when (ex is PostgresNotAvailableException or IOException)
            {
                CliOutput.Status($"Could not stop the private PostgreSQL on {network.Postgres.Address} ({ex.Message}); its namespace's processes are killed.");
            }
        }

        return [.. stopped, .. await network.RemoveAsync(cancellationToken)];
    }
}
