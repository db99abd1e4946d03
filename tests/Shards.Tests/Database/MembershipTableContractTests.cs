using System.Net;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Database;

/// <summary>
/// Orleans' ADO.NET membership table (<see cref="AdoNetClusteringTable"/>, wired as a Shards silo wires it) against
/// Shards' clustering schema (0002_clustering.sql). Each test uses its own ClusterId, so tests sharing the database
/// cannot see each other: that isolation is itself part of the contract.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class MembershipTableContractTests(PostgresDatabaseFixture database) : IClassFixture<PostgresDatabaseFixture>, IDisposable
{
    private const string ServiceId = "shards-contract";
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly List<OrleansAdoNetProviders> _providers = [];

    // Timestamps the table stores to the millisecond (suspicion votes are written as text with milliseconds).
    private static readonly DateTime Now = TruncateToMilliseconds(DateTime.UtcNow);

    [Fact]
    public void Shards_silo_wiring_resolves_the_ado_net_membership_table()
    {
        using var providers = OrleansAdoNetProviders.ForSilo(database.ConnectionString, NewClusterId(), ServiceId);

        Assert.IsType<AdoNetClusteringTable>(providers.MembershipTable());
    }

    [Fact]
    public async Task Initializing_the_table_creates_the_cluster_version_row_once()
    {
        var clusterId = NewClusterId();
        using var providers = OrleansAdoNetProviders.ForSilo(database.ConnectionString, clusterId, ServiceId);
        var table = providers.MembershipTable();

        await table.InitializeMembershipTableAsync(tryInitTableVersion: true, Ct);

        var data = await table.ReadAllAsync(Ct);
        Assert.Empty(data.Members);
        Assert.Equal(0, data.Version.Version);
        Assert.Equal(1, await VersionRowCount(clusterId));

        Assert.True(await table.InsertRowAsync(Entry(Silo(1)), data.Version.Next(), Ct));

        // A second silo starting up must neither add a version row nor reset the version.
        using var secondSilo = OrleansAdoNetProviders.ForSilo(database.ConnectionString, clusterId, ServiceId);
        var second = secondSilo.MembershipTable();
        await second.InitializeMembershipTableAsync(tryInitTableVersion: true, Ct);
        Assert.Equal(1, await VersionRowCount(clusterId));
        Assert.Equal(1, (await second.ReadAllAsync(Ct)).Version.Version);
    }

    [Fact]
    public async Task Inserted_silo_reads_back_with_every_field_through_ReadRow_and_ReadAll()
    {
        var table = await InitializedTableAsync(NewClusterId());
        var entry = Entry(Silo(1), SiloStatus.Joining, proxyPort: 30001);
        entry.StartTime = Now.AddMinutes(-3);
        entry.IAmAliveTime = Now.AddMinutes(-1);
        var version = (await table.ReadAllAsync(Ct)).Version;

        Assert.True(await table.InsertRowAsync(entry, version.Next(), Ct));

        var row = await table.ReadRowAsync(entry.SiloAddress, Ct);
        var (stored, _) = Assert.Single(row.Members);
        AssertSameEntry(entry, stored);
        Assert.Equal(version.Version + 1, row.Version.Version);

        var all = await table.ReadAllAsync(Ct);
        AssertSameEntry(entry, Assert.Single(all.Members).Item1);
        Assert.Equal(version.Version + 1, all.Version.Version);
    }

    [Fact]
    public async Task Reading_a_silo_that_is_not_in_the_table_gives_no_entry_but_the_table_version()
    {
        var table = await InitializedTableAsync(NewClusterId());
        Assert.True(await table.InsertRowAsync(Entry(Silo(1)), (await table.ReadAllAsync(Ct)).Version.Next(), Ct));

        var row = await table.ReadRowAsync(Silo(2), Ct);

        Assert.Empty(row.Members);
        Assert.Equal(1, row.Version.Version);
    }

    [Fact]
    public async Task Insert_with_a_stale_table_version_fails_and_changes_nothing()
    {
        var clusterId = NewClusterId();
        var table = await InitializedTableAsync(clusterId);
        var stale = (await table.ReadAllAsync(Ct)).Version;
        Assert.True(await table.InsertRowAsync(Entry(Silo(1)), stale.Next(), Ct));
        var before = await MembershipSnapshot(clusterId);

        Assert.False(await table.InsertRowAsync(Entry(Silo(2)), stale.Next(), Ct));

        Assert.Equal(before, await MembershipSnapshot(clusterId));
        var after = await table.ReadAllAsync(Ct);
        Assert.Equal(1, after.Version.Version);
        Assert.Equal(new[] { Silo(1) }, after.Members.Select(m => m.Item1.SiloAddress));
    }

    [Fact]
    public async Task Inserting_the_same_silo_twice_fails_and_keeps_the_first_row()
    {
        var clusterId = NewClusterId();
        var table = await InitializedTableAsync(clusterId);
        var first = Entry(Silo(1), SiloStatus.Joining);
        Assert.True(await table.InsertRowAsync(first, (await table.ReadAllAsync(Ct)).Version.Next(), Ct));
        var before = await MembershipSnapshot(clusterId);

        var duplicate = Entry(Silo(1), SiloStatus.Active, proxyPort: 39999);
        duplicate.SiloName = "impostor";
        Assert.False(await table.InsertRowAsync(duplicate, (await table.ReadAllAsync(Ct)).Version.Next(), Ct));

        Assert.Equal(before, await MembershipSnapshot(clusterId));
        AssertSameEntry(first, Assert.Single((await table.ReadAllAsync(Ct)).Members).Item1);
    }

    [Fact]
    public async Task Concurrent_inserts_with_the_same_table_version_let_exactly_one_silo_in()
    {
        var clusterId = NewClusterId();
        var table = await InitializedTableAsync(clusterId);
        var version = (await table.ReadAllAsync(Ct)).Version;

        var results = await Task.WhenAll(Enumerable.Range(1, 8).Select(i => table.InsertRowAsync(Entry(Silo(i)), version.Next(), Ct)));

        Assert.Single(results, inserted => inserted);
        var after = await table.ReadAllAsync(Ct);
        Assert.Single(after.Members);
        Assert.Equal(version.Version + 1, after.Version.Version);
    }

    [Fact]
    public async Task Update_with_the_current_table_version_succeeds_and_bumps_the_version()
    {
        var table = await InitializedTableAsync(NewClusterId());
        Assert.True(await table.InsertRowAsync(Entry(Silo(1), SiloStatus.Joining), (await table.ReadAllAsync(Ct)).Version.Next(), Ct));
        var read = await table.ReadAllAsync(Ct);
        var (entry, etag) = Assert.Single(read.Members);

        entry.Status = SiloStatus.Active;
        entry.SuspectTimes = [Tuple.Create(Silo(2), Now.AddSeconds(-30)), Tuple.Create(Silo(3), Now.AddSeconds(-10))];
        Assert.True(await table.UpdateRowAsync(entry, etag, read.Version.Next(), Ct));

        var after = await table.ReadAllAsync(Ct);
        Assert.Equal(read.Version.Version + 1, after.Version.Version);
        AssertSameEntry(entry, Assert.Single(after.Members).Item1);
    }

    [Fact]
    public async Task Update_with_a_stale_table_version_fails_and_changes_nothing()
    {
        var clusterId = NewClusterId();
        var table = await InitializedTableAsync(clusterId);
        Assert.True(await table.InsertRowAsync(Entry(Silo(1), SiloStatus.Joining), (await table.ReadAllAsync(Ct)).Version.Next(), Ct));
        var stale = await table.ReadAllAsync(Ct);
        var (entry, etag) = Assert.Single(stale.Members);
        entry.Status = SiloStatus.Active;
        Assert.True(await table.UpdateRowAsync(entry, etag, stale.Version.Next(), Ct));
        var before = await MembershipSnapshot(clusterId);

        // The provider itself returns false when the row etag and the table version's etag differ; both come from
        // the same stale read here, so the stale version reaches the SQL, which must refuse it.
        entry.Status = SiloStatus.Dead;
        entry.IAmAliveTime = Now.AddMinutes(5);
        Assert.False(await table.UpdateRowAsync(entry, etag, stale.Version.Next(), Ct));

        Assert.Equal(before, await MembershipSnapshot(clusterId));
        var after = await table.ReadAllAsync(Ct);
        Assert.Equal(SiloStatus.Active, Assert.Single(after.Members).Item1.Status);
        Assert.Equal(stale.Version.Version + 1, after.Version.Version);
    }

    [Fact]
    public async Task Update_of_a_silo_that_is_not_in_the_table_fails_and_keeps_the_version()
    {
        var table = await InitializedTableAsync(NewClusterId());
        var read = await table.ReadAllAsync(Ct);

        Assert.False(await table.UpdateRowAsync(Entry(Silo(7), SiloStatus.Active), read.Version.VersionEtag, read.Version.Next(), Ct));

        Assert.Equal(read.Version.Version, (await table.ReadAllAsync(Ct)).Version.Version);
    }

    [Fact]
    public async Task UpdateIAmAlive_changes_only_the_heartbeat()
    {
        var clusterId = NewClusterId();
        var table = await InitializedTableAsync(clusterId);
        var entry = Entry(Silo(1), SiloStatus.Active);
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync(Ct)).Version.Next(), Ct));
        var before = await table.ReadAllAsync(Ct);

        var heartbeat = Entry(Silo(1), SiloStatus.Dead, proxyPort: 1);
        heartbeat.SiloName = "ignored";
        heartbeat.HostName = "ignored";
        heartbeat.StartTime = Now.AddDays(-1);
        heartbeat.IAmAliveTime = Now.AddSeconds(42);
        await table.UpdateIAmAliveAsync(heartbeat, Ct);

        var after = await table.ReadAllAsync(Ct);
        Assert.Equal(before.Version.Version, after.Version.Version);
        entry.IAmAliveTime = heartbeat.IAmAliveTime;
        AssertSameEntry(entry, Assert.Single(after.Members).Item1);
    }

    [Fact]
    public async Task Gateway_list_holds_only_the_active_silos_at_their_proxy_port()
    {
        var clusterId = NewClusterId();
        var table = await InitializedTableAsync(clusterId);
        await InsertAsync(table, Entry(Silo(1), SiloStatus.Active, proxyPort: 30001));
        await InsertAsync(table, Entry(Silo(2), SiloStatus.Active, proxyPort: 30002));
        await InsertAsync(table, Entry(Silo(3), SiloStatus.Joining, proxyPort: 30003));
        await InsertAsync(table, Entry(Silo(4), SiloStatus.ShuttingDown, proxyPort: 30004));
        await InsertAsync(table, Entry(Silo(5), SiloStatus.Dead, proxyPort: 30005));

        // Another cluster's active silo in the same database.
        var otherTable = await InitializedTableAsync(NewClusterId());
        await InsertAsync(otherTable, Entry(Silo(6), SiloStatus.Active, proxyPort: 30006));

        var (provider, owner) = await OrleansAdoNetProviders.GatewayListProviderAsync(database.ConnectionString, clusterId, ServiceId);
        using (owner)
        {
            var gateways = await provider.GetGatewaysAsync(Ct);

            Assert.Equal(
                new[] { GatewayUri(1, 30001), GatewayUri(2, 30002) }.Order(),
                gateways.Select(g => g.ToString()).Order());
        }
    }

    [Fact]
    public async Task Cleanup_removes_dead_rows_older_than_the_cutoff_including_ones_carrying_suspicion_votes()
    {
        var clusterId = NewClusterId();
        var table = await InitializedTableAsync(clusterId);
        var kept = await InsertCleanupScenarioAsync(table);

        await table.CleanupDefunctSiloEntriesAsync(new DateTimeOffset(Now.AddDays(-7)), Ct);

        Assert.Equal(kept.Order(), (await table.ReadAllAsync(Ct)).Members.Select(m => m.Item1.SiloAddress).Order());
        Assert.Equal(1, await VersionRowCount(clusterId));
    }

    /// <summary>
    /// Without the optional per-row query (<c>CleanupDefunctSiloEntryKey</c>) the provider runs the bulk query, which
    /// upstream restricts to rows without suspicion votes (so dead rows pile up); Shards' bulk query must give the
    /// same result as the per-row path above.
    /// </summary>
    [Fact]
    public async Task Bulk_cleanup_query_removes_the_same_rows_as_the_per_row_cleanup()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("bulkcleanup");
        Assert.Equal(1, await Sql.ExecuteAsync(connectionString, "DELETE FROM orleansquery WHERE querykey = 'CleanupDefunctSiloEntryKey'"));
        var clusterId = NewClusterId();
        using var providers = OrleansAdoNetProviders.ForSilo(connectionString, clusterId, ServiceId);
        var table = providers.MembershipTable();
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true, Ct);
        var kept = await InsertCleanupScenarioAsync(table);
        var versionBefore = (await table.ReadAllAsync(Ct)).Version.Version;

        await table.CleanupDefunctSiloEntriesAsync(new DateTimeOffset(Now.AddDays(-7)), Ct);

        var after = await table.ReadAllAsync(Ct);
        Assert.Equal(kept.Order(), after.Members.Select(m => m.Item1.SiloAddress).Order());
        Assert.Equal(versionBefore, after.Version.Version);
    }

    [Fact]
    public async Task Clusters_sharing_a_database_do_not_see_each_others_rows()
    {
        var blueId = NewClusterId();
        var greenId = NewClusterId();
        var blue = await InitializedTableAsync(blueId);
        var green = await InitializedTableAsync(greenId);

        // The same silo address may be a member of both clusters.
        await InsertAsync(blue, Entry(Silo(1), SiloStatus.Active, proxyPort: 30001));
        await InsertAsync(blue, Entry(Silo(2), SiloStatus.Active, proxyPort: 30002));
        var greenEntry = Entry(Silo(1), SiloStatus.Joining, proxyPort: 40001);
        await InsertAsync(green, greenEntry);

        var blueAll = await blue.ReadAllAsync(Ct);
        var greenAll = await green.ReadAllAsync(Ct);
        Assert.Equal(2, blueAll.Version.Version);
        Assert.Equal(1, greenAll.Version.Version);
        Assert.Equal(new[] { Silo(1), Silo(2) }, blueAll.Members.Select(m => m.Item1.SiloAddress).Order());
        AssertSameEntry(greenEntry, Assert.Single(greenAll.Members).Item1);
        AssertSameEntry(greenEntry, Assert.Single((await green.ReadRowAsync(Silo(1), Ct)).Members).Item1);
        Assert.Empty((await green.ReadRowAsync(Silo(2), Ct)).Members);

        // A green update with green's version leaves blue's row for the same address alone.
        greenEntry.Status = SiloStatus.Dead;
        Assert.True(await green.UpdateRowAsync(greenEntry, greenAll.Members.Single().Item2, greenAll.Version.Next(), Ct));
        Assert.Equal(SiloStatus.Active, (await blue.ReadRowAsync(Silo(1), Ct)).Members.Single().Item1.Status);
        Assert.Equal(2, (await blue.ReadAllAsync(Ct)).Version.Version);
    }

    [Fact]
    public async Task Deleting_one_clusters_entries_leaves_the_other_cluster_intact()
    {
        var blueId = NewClusterId();
        var greenId = NewClusterId();
        var blue = await InitializedTableAsync(blueId);
        var green = await InitializedTableAsync(greenId);
        await InsertAsync(blue, Entry(Silo(1), SiloStatus.Active));
        await InsertAsync(green, Entry(Silo(1), SiloStatus.Active));
        await InsertAsync(green, Entry(Silo(2), SiloStatus.Active));
        var greenBefore = await MembershipSnapshot(greenId);

        await blue.DeleteMembershipTableEntriesAsync(blueId, Ct);

        Assert.Equal(0, await VersionRowCount(blueId));
        Assert.Equal(0, await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM orleans_membership WHERE deploymentid = @c", ("c", blueId)));
        Assert.Equal(greenBefore, await MembershipSnapshot(greenId));
        Assert.Equal(2, (await green.ReadAllAsync(Ct)).Members.Count);

        // A silo of the deleted cluster starting again re-creates the version row from scratch.
        await blue.InitializeMembershipTableAsync(tryInitTableVersion: true, Ct);
        var blueAgain = await blue.ReadAllAsync(Ct);
        Assert.Empty(blueAgain.Members);
        Assert.Equal(0, blueAgain.Version.Version);
    }

    /// <summary>
    /// Rows for the cleanup tests (cut-off: 7 days ago). Returns the silos that must survive.
    /// </summary>
    private static async Task<SiloAddress[]> InsertCleanupScenarioAsync(IMembershipTable table)
    {
        var old = Now.AddDays(-10);
        var oldVotes = new List<Tuple<SiloAddress, DateTime>> { Tuple.Create(Silo(90), old.AddHours(1)), Tuple.Create(Silo(91), old.AddHours(2)) };
        var recentVote = new List<Tuple<SiloAddress, DateTime>> { Tuple.Create(Silo(90), Now.AddHours(-1)) };

        // Removed: dead, started and last heartbeat before the cut-off, no votes.
        await InsertAsync(table, Entry(Silo(1), SiloStatus.Dead, start: old, alive: old));
        // Removed: dead and old, with old suspicion votes (upstream's bulk query keeps these forever).
        await InsertAsync(table, Entry(Silo(2), SiloStatus.Active, start: old, alive: old));
        await UpdateAsync(table, Silo(2), e => { e.Status = SiloStatus.Dead; e.SuspectTimes = oldVotes; });
        // Removed: a silo that stopped cleanly votes for itself.
        await InsertAsync(table, Entry(Silo(3), SiloStatus.ShuttingDown, start: old, alive: old));
        await UpdateAsync(table, Silo(3), e => { e.Status = SiloStatus.Dead; e.SuspectTimes = [Tuple.Create(Silo(3), old.AddMinutes(5))]; });

        // Kept: dead and old, but a vote after the cut-off.
        await InsertAsync(table, Entry(Silo(4), SiloStatus.Active, start: old, alive: old));
        await UpdateAsync(table, Silo(4), e => { e.Status = SiloStatus.Dead; e.SuspectTimes = recentVote; });
        // Kept: dead, but heartbeat after the cut-off.
        await InsertAsync(table, Entry(Silo(5), SiloStatus.Dead, start: old, alive: Now.AddDays(-1)));
        // Kept: old but not dead.
        await InsertAsync(table, Entry(Silo(6), SiloStatus.Active, start: old, alive: old));
        await InsertAsync(table, Entry(Silo(7), SiloStatus.ShuttingDown, start: old, alive: old));
        // Kept: live and recent.
        await InsertAsync(table, Entry(Silo(8), SiloStatus.Active));
        return [Silo(4), Silo(5), Silo(6), Silo(7), Silo(8)];
    }

    private async Task<IMembershipTable> InitializedTableAsync(string clusterId)
    {
        var providers = OrleansAdoNetProviders.ForSilo(database.ConnectionString, clusterId, ServiceId);
        _providers.Add(providers);
        var table = providers.MembershipTable();
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true, Ct);
        return table;
    }

    public void Dispose()
    {
        foreach (var providers in _providers)
        {
            providers.Dispose();
        }
    }

    private static async Task InsertAsync(IMembershipTable table, MembershipEntry entry)
    {
        var version = (await table.ReadAllAsync(Ct)).Version;
        Assert.True(await table.InsertRowAsync(entry, version.Next(), Ct), $"insert of {entry.SiloAddress}");
    }

    private static async Task UpdateAsync(IMembershipTable table, SiloAddress silo, Action<MembershipEntry> change)
    {
        var read = await table.ReadAllAsync(Ct);
        var (entry, etag) = read.Members.Single(m => m.Item1.SiloAddress.Equals(silo));
        change(entry);
        Assert.True(await table.UpdateRowAsync(entry, etag, read.Version.Next(), Ct), $"update of {silo}");
    }

    private static MembershipEntry Entry(
        SiloAddress silo, SiloStatus status = SiloStatus.Active, int proxyPort = 30000, DateTime? start = null, DateTime? alive = null) => new()
        {
            SiloAddress = silo,
            Status = status,
            ProxyPort = proxyPort,
            SiloName = $"silo-{silo.Endpoint.Port}-{silo.Generation}",
            HostName = "contract-host",
            StartTime = start ?? Now.AddMinutes(-1),
            IAmAliveTime = alive ?? Now,
            SuspectTimes = [],
        };

    private static SiloAddress Silo(int n) => SiloAddress.New(new IPEndPoint(IPAddress.Parse($"10.0.0.{n}"), 11111), 400_000_000 + n);

    private static string GatewayUri(int silo, int proxyPort)
    {
        var address = Silo(silo);
        return SiloAddress.New(new IPEndPoint(address.Endpoint.Address, proxyPort), address.Generation).ToGatewayUri().ToString();
    }

    private static void AssertSameEntry(MembershipEntry expected, MembershipEntry actual)
    {
        Assert.Equal(expected.SiloAddress, actual.SiloAddress);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.ProxyPort, actual.ProxyPort);
        Assert.Equal(expected.SiloName, actual.SiloName);
        Assert.Equal(expected.HostName, actual.HostName);
        Assert.Equal(expected.StartTime, actual.StartTime);
        Assert.Equal(DateTimeKind.Utc, actual.StartTime.Kind);
        Assert.Equal(expected.IAmAliveTime, actual.IAmAliveTime);
        Assert.Equal(DateTimeKind.Utc, actual.IAmAliveTime.Kind);
        Assert.Equal(
            (expected.SuspectTimes ?? []).Select(v => (v.Item1, v.Item2)),
            (actual.SuspectTimes ?? []).Select(v => (v.Item1, v.Item2)));
    }

    private Task<long> VersionRowCount(string clusterId) => Sql.ScalarAsync<long>(
        database.ConnectionString, "SELECT count(*) FROM orleans_membership_version WHERE deploymentid = @c", ("c", clusterId));

    /// <summary>Everything stored for a cluster, as text: version row and silo rows.</summary>
    private Task<string> MembershipSnapshot(string clusterId) => Sql.ScalarAsync<string>(
        database.ConnectionString,
        """
        SELECT coalesce((SELECT row_to_json(v)::text FROM orleans_membership_version AS v WHERE v.deploymentid = @c), '')
            || ' | '
            || coalesce((SELECT string_agg(row_to_json(m)::text, ' | ' ORDER BY m.address, m.port, m.generation)
                           FROM orleans_membership AS m WHERE m.deploymentid = @c), '')
        """,
        ("c", clusterId));

    private static string NewClusterId() => $"contract-{Guid.NewGuid():N}";

    private static DateTime TruncateToMilliseconds(DateTime value) =>
        new(value.Ticks - (value.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);
}
