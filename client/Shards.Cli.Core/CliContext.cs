using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shards.Client;
using Shards.LocalCluster;
using Shards.LocalCluster.Postgres;
using Shards.Postgres;
using Shards.Storage.Postgres;

namespace Shards.Cli.Core;

/// <summary>
/// What every command shares: configuration (appsettings.json beside the program, environment variables,
/// global options), the PostgreSQL to use, its data sources, and a cluster client created on first use.
/// </summary>
public sealed class CliContext : IAsyncDisposable
{
    private readonly bool _ownsDataSources;
    private IHost? _clientHost;

    /// <param name="dataSources">A registry to share (its owner disposes it); by default the context has its own.</param>
    public CliContext(bool json, string? connection, string? clusterId, PostgresDataSources? dataSources = null)
    {
        _ownsDataSources = dataSources is null;
        DataSources = dataSources ?? new PostgresDataSources();
        Output = new CliOutput(json);
        Configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, SettingsFile), optional: true)
            .AddEnvironmentVariables()
            .Build();
        Cluster = Configuration.GetSection(ShardsClusterOptions.Section).Get<ShardsClusterOptions>() ?? new();
        if (!string.IsNullOrWhiteSpace(clusterId))
        {
            Cluster.ClusterId = clusterId;
        }

        PrivatePostgres = Configuration.GetSection(PrivatePostgresOptions.Section).Get<PrivatePostgresOptions>() ?? new();
        PostgresHa = Configuration.GetSection(PostgresHaOptions.Section).Get<PostgresHaOptions>() ?? new();
        ClientOptions = Configuration.GetSection(ShardsClientOptions.Section).Get<ShardsClientOptions>() ?? new();
        StorageOptions = Configuration.GetSection(ShardsStorageOptions.Section).Get<ShardsStorageOptions>() ?? new();
        // Each section bound once, above, and checked by the same validator classes the silos use.
        new ShardsClusterOptionsValidator().ThrowIfInvalid(Cluster);
        new ShardsClientOptionsValidator().ThrowIfInvalid(ClientOptions);
        new ShardsStorageOptionsValidator().ThrowIfInvalid(StorageOptions);
        ConfiguredConnectionString = string.IsNullOrWhiteSpace(connection)
            ? Configuration.GetConnectionString(ConnectionStringNames.Shards)
            : connection;
        ConnectionArguments = ConnectionArguments.FromConsole(Configuration);
    }

    /// <summary>
    /// The <c>--connection</c> of the command line: a connection string, <c>name:NAME</c> or <c>-</c> (see
    /// <see cref="Core.ConnectionArguments"/>); blank keeps <c>ConnectionStrings__Shards</c> or the private server.
    /// </summary>
    public void UseConnectionArgument(string? connection)
    {
        if (!string.IsNullOrWhiteSpace(connection))
        {
            ConfiguredConnectionString = ConnectionArguments.Resolve(connection, "--connection");
        }
    }

    /// <summary>The client's own settings file (the silo's appsettings.json shares the output folder).</summary>
    public const string SettingsFile = "shards.settings.json";

    public CliOutput Output { get; }

    /// <summary>The command run's PostgreSQL data sources, one per database (the cluster client it starts shares them).</summary>
    public PostgresDataSources DataSources { get; }

    public IConfiguration Configuration { get; }

    public ShardsClusterOptions Cluster { get; }

    public PrivatePostgresOptions PrivatePostgres { get; }

    /// <summary>The private high-availability formation's settings (<c>Shards:PostgresHa</c>).</summary>
    public PostgresHaOptions PostgresHa { get; }

    /// <summary>
    /// Set by <c>--ha</c> (<c>db start</c>, <c>cluster up</c>, <c>demo</c>): start the private pg_auto_failover formation
    /// rather than the single private server.
    /// </summary>
    public bool HighAvailability { get; set; }

    public ShardsClientOptions ClientOptions { get; }

    /// <summary>Shard databases configured for this process (<c>Shards__Storage__Shards__N__...</c>); silos it launches inherit them.</summary>
    public ShardsStorageOptions StorageOptions { get; }

    /// <summary>From <c>--connection</c> or <c>ConnectionStrings__Shards</c>; null means "use the private server".</summary>
    public string? ConfiguredConnectionString { get; private set; }

    /// <summary>Resolves connection strings given on the command line (one standard input for all of them).</summary>
    public ConnectionArguments ConnectionArguments { get; }

    /// <summary>
    /// The configured PostgreSQL, else the private one of <c>shards db start</c>: started here when
    /// <paramref name="startPrivateServer"/> (cluster up, demo), else it must already run. The private one is the
    /// high-availability formation while it runs or when <see cref="HighAvailability"/> asks for it, else the single server.
    /// </summary>
    public Task<string> ResolveConnectionStringAsync(bool startPrivateServer, CancellationToken cancellationToken) =>
        ResolveConnectionStringAsync(startPrivateServer, placement: null, cancellationToken);

    /// <summary>
    /// As <see cref="ResolveConnectionStringAsync(bool, CancellationToken)"/>; a private server started here runs on
    /// <paramref name="placement"/>'s simulated host (<c>cluster up --hosts</c>), null: on 127.0.0.1.
    /// </summary>
    public async Task<string> ResolveConnectionStringAsync(bool startPrivateServer, PostgresPlacement? placement, CancellationToken cancellationToken)
    {
        if (ConfiguredConnectionString is not null)
        {
            return ConfiguredConnectionString;
        }

        var server = await PrivateDatabaseAsync(cancellationToken);
        var running = await server.RunningConnectionStringAsync(cancellationToken);
        if (startPrivateServer)
        {
            string started;
            if (server is PrivatePostgresServer single)
            {
                var host = placement?.ListenAddress ?? System.Net.IPAddress.Loopback.ToString();
                CliOutput.Status(running is not null && single.Host == host
                    ? $"Reusing the private PostgreSQL already running on {PostgresAvailability.Describe(running)} ({server.RootDirectory})."
                    : $"Starting the private PostgreSQL in {server.RootDirectory} on {host} ...");
                started = await single.StartAsync(placement, cancellationToken);
            }
            else
            {
                if (placement is not null)
                {
                    throw new CliException(
                        $"--hosts runs the single private PostgreSQL on a simulated host of its own; the --ha formation in {server.RootDirectory} " +
                        "runs on 127.0.0.1 only. Stop it ('shards db stop') or leave out --hosts.");
                }

                CliOutput.Status(running is not null
                    ? $"Reusing the private PostgreSQL formation (pg_auto_failover: monitor, primary, standby) already running on {PostgresAvailability.Describe(running)} ({server.RootDirectory})."
                    : $"Starting the private PostgreSQL formation (pg_auto_failover: monitor, primary, standby) in {server.RootDirectory} ...");
                started = await server.StartAsync(cancellationToken);
            }

            await new SchemaMigrator(DataSources.For(started)).ApplyAsync(cancellationToken);
            return started;
        }

        return running ?? throw new CliException(NoPostgresMessage(LocalClusters.On(server)), ExitCodes.Unavailable);
    }

    /// <summary>
    /// The private PostgreSQL this command uses (whether it runs or not): the high-availability formation when
    /// <see cref="HighAvailability"/> is set or the formation runs, else the single server.
    /// </summary>
    public Task<IPrivatePostgres> PrivateDatabaseAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IPrivatePostgres server = HighAvailability ? PostgresHaFormation.Create(PostgresHa, CliOutput.Status)
            : HaFormationIfCreated() is { IsRunning: true } formation ? formation
            : PrivatePostgresServer.Create(PrivatePostgres, CliOutput.Status);
        return Task.FromResult(server);
    }

    /// <summary>The formation of <c>shards db start --ha</c> when its folder holds one (running or not), else null.</summary>
    public PostgresHaFormation? HaFormationIfCreated() =>
        PostgresHaFormation.IsInstalled && PostgresHaFormation.Create(PostgresHa, CliOutput.Status) is { Initialised: true } formation ? formation : null;

    /// <summary>Why there is no PostgreSQL to talk to, naming the clusters of this folder that are up without theirs.</summary>
    internal static string NoPostgresMessage(IReadOnlyList<ClusterState> clustersUp)
    {
        if (clustersUp.Count == 0)
        {
            return "No PostgreSQL to talk to: set ConnectionStrings__Shards, or start the private one with 'shards db start' " +
                "(or start everything with 'shards cluster up').";
        }

        return clustersUp.Count == 1
            ? $"No PostgreSQL to talk to: a cluster is up, {LocalClusters.Describe(clustersUp[0])}, but its PostgreSQL is stopped; start it with 'shards db start'."
            : $"No PostgreSQL to talk to: {clustersUp.Count} clusters are up, {string.Join("; ", clustersUp.Select(LocalClusters.Describe))}, " +
              "but their PostgreSQL is stopped; start it with 'shards db start'.";
    }

    /// <summary>
    /// TLS of the cluster's connections: the <c>Shards:Tls</c> configuration (environment <c>Shards__Tls__*</c>) when it
    /// says whether TLS is on, else the certificate of a local <c>shards cluster up --tls</c>, else null (plain TCP).
    /// </summary>
    public ShardsTlsOptions? Tls => ResolveTls(Configuration, LocalTlsCertificate.Current);

    /// <summary>
    /// Explicit configuration wins over the local marker file: <c>Shards__Tls__Enabled=false</c> means plain TCP even
    /// while <c>.shards/tls/enabled</c> exists, <c>true</c> means the configured certificate. Only when
    /// <c>Shards:Tls:Enabled</c> is not set at all does the local cluster's marker decide (<paramref name="local"/>).
    /// </summary>
    internal static ShardsTlsOptions? ResolveTls(IConfiguration configuration, Func<ShardsTlsOptions?> local)
    {
        var section = configuration.GetSection(ShardsTlsOptions.Section);
        if (section[nameof(ShardsTlsOptions.Enabled)] is null)
        {
            return local();
        }

        var configured = section.Get<ShardsTlsOptions>() ?? new();
        return configured.Enabled ? configured : null;
    }

    /// <summary>How long a command waits for an unreachable PostgreSQL before it gives up (a formation's failover takes 5-7 s).</summary>
    private static readonly TimeSpan s_membershipPatience = TimeSpan.FromSeconds(15);

    /// <summary>A connected cluster client; fails fast and clearly when no silo is active.</summary>
    public async Task<IClusterClient> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_clientHost is not null)
        {
            return _clientHost.Services.GetRequiredService<IClusterClient>();
        }

        var connectionString = await ResolveConnectionStringAsync(startPrivateServer: false, cancellationToken);
        IReadOnlyList<MembershipRow> members;
        var deadline = DateTime.UtcNow + s_membershipPatience;
        while (true)
        {
            try
            {
                members = await new MembershipTableReader(DataSources.For(connectionString)).ReadAsync(Cluster.ClusterId, cancellationToken);
                break;
            }
            catch (Npgsql.NpgsqlException ex) when (ex is not Npgsql.PostgresException)
            {
                // Not reachable (restarting, or a formation between primaries): worth a few more tries.
                if (DateTime.UtcNow > deadline)
                {
                    throw new CliException($"PostgreSQL at {PostgresAvailability.Describe(connectionString)} is not reachable: {PostgresAvailability.Reason(ex)}", ExitCodes.Unavailable);
                }

                CliOutput.Status($"PostgreSQL at {PostgresAvailability.Describe(connectionString)} is not reachable ({PostgresAvailability.Reason(ex)}); retrying ...");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
            catch (Npgsql.PostgresException ex)
            {
                throw new CliException($"PostgreSQL at {PostgresAvailability.Describe(connectionString)} refused to read the membership table: {ex.MessageText}", ExitCodes.Unavailable);
            }
        }

        if (!members.Any(m => m.Status == SiloStatusCode.Active))
        {
            throw new CliException(
                $"No silo of cluster '{Cluster.ClusterId}' is active (membership table at {PostgresAvailability.Describe(connectionString)}). " +
                "Start the cluster with: shards cluster up", ExitCodes.Unavailable);
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddConfiguration(Configuration);
        builder.Logging.AddConfiguration(Configuration.GetSection("Logging"));
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        ClusterTls? tls;
        try
        {
            tls = ClusterTls.From(Tls);
        }
        catch (InvalidOperationException ex)
        {
            throw new CliException(ex.Message, ExitCodes.BadInput);
        }

        builder.AddShardsClient(connectionString, Cluster, ClientOptions, tls, DataSources);
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            host.Dispose();
            throw new CliException(ClusterUnreachableException.For(Cluster.ClusterId, ClientOptions.ConnectTimeout, ex, Tls is { Enabled: true }).Message, ExitCodes.Unavailable);
        }

        _clientHost = host;
        return host.Services.GetRequiredService<IClusterClient>();
    }

    public async ValueTask DisposeAsync()
    {
        if (_clientHost is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _clientHost.StopAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Closing the client must never hang the CLI.
            }

            _clientHost.Dispose();
            _clientHost = null;
        }

        if (_ownsDataSources)
        {
            await DataSources.DisposeAsync();
        }
    }
}
