using Orleans.Runtime;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Database;

/// <summary>
/// Orleans' ADO.NET reminder table (internal <c>AdoNetReminderTable</c>, resolved as <see cref="IReminderTable"/> from
/// a host wired like a Shards silo) against Shards' reminders schema (0004_reminders.sql). Each test uses its own
/// ServiceId, so the tests sharing the database cannot see each other's rows.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ReminderTableContractTests(PostgresDatabaseFixture database) : IClassFixture<PostgresDatabaseFixture>, IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly DateTime Start = TruncateToMilliseconds(DateTime.UtcNow.AddMinutes(5));
    private static readonly GrainId Cart1 = GrainId.Create("cart", "cart-1");
    private static readonly GrainId Cart2 = GrainId.Create("cart", "cart-2");

    private readonly List<OrleansAdoNetProviders> _providers = [];

    [Fact]
    public async Task Shards_silo_wiring_resolves_the_ado_net_reminder_table()
    {
        var table = await TableAsync(NewServiceId());

        Assert.Equal("Orleans.Runtime.ReminderService.AdoNetReminderTable", table.GetType().FullName);
    }

    [Fact]
    public async Task Upserted_reminder_reads_back_with_every_field_and_the_etag_the_upsert_returned()
    {
        var table = await TableAsync(NewServiceId());
        var entry = Reminder(Cart1, "expire", TimeSpan.FromMinutes(10));

        var etag = await table.UpsertRow(entry, Ct);

        Assert.False(string.IsNullOrEmpty(etag));
        var read = await table.ReadRow(Cart1, "expire", Ct);
        Assert.NotNull(read);
        Assert.Equal(Cart1, read.GrainId);
        Assert.Equal("expire", read.ReminderName);
        Assert.Equal(Start, read.StartAt);
        Assert.Equal(DateTimeKind.Utc, read.StartAt.Kind);
        Assert.Equal(TimeSpan.FromMinutes(10), read.Period);
        Assert.Equal(etag, read.ETag);
    }

    [Fact]
    public async Task Upserting_an_existing_reminder_replaces_it_and_changes_the_etag()
    {
        var table = await TableAsync(NewServiceId());
        var first = await UpsertAsync(table, Reminder(Cart1, "expire", TimeSpan.FromMinutes(10)));

        var changed = Reminder(Cart1, "expire", TimeSpan.FromMinutes(20));
        changed.StartAt = Start.AddHours(1);
        var second = await UpsertAsync(table, changed);

        Assert.NotEqual(first, second);
        var read = Assert.Single((await table.ReadRows(Cart1, Ct)).Reminders);
        Assert.Equal(second, read.ETag);
        Assert.Equal(TimeSpan.FromMinutes(20), read.Period);
        Assert.Equal(Start.AddHours(1), read.StartAt);
    }

    [Fact]
    public async Task Periods_longer_than_int_milliseconds_round_trip()
    {
        var table = await TableAsync(NewServiceId());
        var month = TimeSpan.FromDays(30); // 2,592,000,000 ms: more than int.MaxValue, bound as a bigint

        await UpsertAsync(table, Reminder(Cart1, "monthly", month));

        Assert.Equal(month, (await table.ReadRow(Cart1, "monthly", Ct))?.Period);
    }

    [Fact]
    public async Task Reading_the_rows_of_a_grain_returns_only_that_grains_reminders()
    {
        var serviceId = NewServiceId();
        var table = await TableAsync(serviceId);
        var otherService = await TableAsync(NewServiceId());
        await UpsertAsync(table, Reminder(Cart1, "expire", TimeSpan.FromMinutes(10)));
        await UpsertAsync(table, Reminder(Cart1, "remind", TimeSpan.FromHours(1)));
        await UpsertAsync(table, Reminder(Cart2, "expire", TimeSpan.FromMinutes(10)));
        await UpsertAsync(otherService, Reminder(Cart1, "foreign", TimeSpan.FromMinutes(10)));

        var rows = (await table.ReadRows(Cart1, Ct)).Reminders;

        Assert.Equal<string>(["expire", "remind"], rows.Select(r => r.ReminderName).Order());
        Assert.All(rows, r => Assert.Equal(Cart1, r.GrainId));
        Assert.Empty((await table.ReadRows(GrainId.Create("cart", "cart-none"), Ct)).Reminders);
    }

    [Fact]
    public async Task Reading_a_reminder_that_does_not_exist_gives_nothing()
    {
        var table = await TableAsync(NewServiceId());
        await UpsertAsync(table, Reminder(Cart1, "expire", TimeSpan.FromMinutes(10)));

        Assert.Null(await table.ReadRow(Cart1, "other-name", Ct));
        Assert.Null(await table.ReadRow(Cart2, "expire", Ct));
    }

    [Fact]
    public async Task Range_read_returns_the_reminders_hashed_after_begin_up_to_and_including_end()
    {
        var (table, bySignedHash) = await RingAsync();
        var begin = Hash(bySignedHash[5]);
        var end = Hash(bySignedHash[15]);
        Assert.True((int)begin < (int)end); // the provider's non-wrapping query (ReadRangeRows1Key)

        var rows = await table.ReadRows(begin, end, Ct);

        AssertGrains(bySignedHash[6..16], rows);
    }

    [Fact]
    public async Task Range_read_that_wraps_around_the_ring_returns_both_ends()
    {
        var (table, bySignedHash) = await RingAsync();
        var begin = Hash(bySignedHash[^5]);
        var end = Hash(bySignedHash[4]);
        Assert.True((int)begin > (int)end); // the provider's wrapping query (ReadRangeRows2Key)

        var rows = await table.ReadRows(begin, end, Ct);

        AssertGrains([.. bySignedHash[^4..], .. bySignedHash[..5]], rows);
    }

    /// <summary>
    /// Hashes are uints stored as signed ints, so a range that does not wrap as uints can wrap as ints (and the
    /// reverse). The ring range (begin, end] must come out the same either way.
    /// </summary>
    [Fact]
    public async Task Range_reads_agree_with_the_unsigned_ring_whatever_the_signed_order()
    {
        var (table, bySignedHash) = await RingAsync();
        var hashes = bySignedHash.Select(Hash).ToArray();
        var lastNegative = Array.FindIndex(hashes, h => (int)h >= 0) - 1; // the last hash with the top bit set
        Assert.InRange(lastNegative, 2, hashes.Length - 4);
        var ranges = new (uint Begin, uint End)[]
        {
            (hashes[^3], hashes[lastNegative - 1]), // unsigned: no wrap, across 0x80000000; signed: wraps
            (hashes[lastNegative - 1], hashes[^3]), // unsigned: wraps through 0; signed: no wrap
            (0x8000_0000, 0x7FFF_FFFF),             // everything but hash 0x80000000 (the signed minimum)
        };

        foreach (var (begin, end) in ranges)
        {
            var expected = bySignedHash.Where(g => InRingRange(Hash(g), begin, end)).ToArray();
            Assert.NotEmpty(expected);
            AssertGrains(expected, await table.ReadRows(begin, end, Ct));
        }
    }

    [Fact]
    public async Task Range_read_with_begin_equal_to_end_returns_the_whole_ring()
    {
        var (table, bySignedHash) = await RingAsync();

        AssertGrains(bySignedHash, await table.ReadRows(Hash(bySignedHash[7]), Hash(bySignedHash[7]), Ct));
        AssertGrains(bySignedHash, await table.ReadRows(0u, 0u, Ct));
    }

    [Fact]
    public async Task Removing_with_the_current_etag_deletes_and_with_a_stale_etag_fails()
    {
        var table = await TableAsync(NewServiceId());
        var stale = await UpsertAsync(table, Reminder(Cart1, "expire", TimeSpan.FromMinutes(10)));
        var current = await UpsertAsync(table, Reminder(Cart1, "expire", TimeSpan.FromMinutes(15)));
        await UpsertAsync(table, Reminder(Cart1, "keep", TimeSpan.FromMinutes(10)));

        Assert.False(await table.RemoveRow(Cart1, "expire", stale, Ct));
        Assert.Equal(current, (await table.ReadRow(Cart1, "expire", Ct))?.ETag);

        Assert.True(await table.RemoveRow(Cart1, "expire", current, Ct));
        Assert.Null(await table.ReadRow(Cart1, "expire", Ct));
        Assert.NotNull(await table.ReadRow(Cart1, "keep", Ct));

        Assert.False(await table.RemoveRow(Cart1, "expire", current, Ct));
    }

    [Fact]
    public async Task Removing_a_reminder_of_another_service_fails_and_keeps_it()
    {
        var blue = await TableAsync(NewServiceId());
        var green = await TableAsync(NewServiceId());
        var etag = await UpsertAsync(blue, Reminder(Cart1, "expire", TimeSpan.FromMinutes(10)));

        Assert.False(await green.RemoveRow(Cart1, "expire", etag, Ct));

        Assert.NotNull(await blue.ReadRow(Cart1, "expire", Ct));
    }

    [Fact]
    public async Task Clearing_the_table_removes_every_reminder_of_the_service_and_no_other()
    {
        var serviceId = NewServiceId();
        var otherId = NewServiceId();
        var table = await TableAsync(serviceId);
        var other = await TableAsync(otherId);
        await UpsertAsync(table, Reminder(Cart1, "expire", TimeSpan.FromMinutes(10)));
        await UpsertAsync(table, Reminder(Cart2, "expire", TimeSpan.FromMinutes(10)));
        await UpsertAsync(other, Reminder(Cart1, "expire", TimeSpan.FromMinutes(10)));

        await table.TestOnlyClearTable(Ct);

        Assert.Equal(0, await RowCount(serviceId));
        Assert.Empty((await table.ReadRows(0u, 0u, Ct)).Reminders);
        Assert.Equal(1, await RowCount(otherId));
        Assert.NotNull(await other.ReadRow(Cart1, "expire", Ct));
    }

    public void Dispose()
    {
        foreach (var providers in _providers)
        {
            providers.Dispose();
        }
    }

    /// <summary>
    /// A service with one reminder on each of 40 grains, and another service with reminders on the same grains (which
    /// range reads must not return). Returns the grains ordered by their hash as the table stores it (signed).
    /// </summary>
    private async Task<(IReminderTable Table, GrainId[] BySignedHash)> RingAsync()
    {
        var table = await TableAsync(NewServiceId());
        var other = await TableAsync(NewServiceId());
        var grains = Enumerable.Range(0, 40).Select(i => GrainId.Create("cart", $"ring-{i}")).ToArray();
        Assert.Equal(grains.Length, grains.Select(Hash).Distinct().Count());
        foreach (var grain in grains)
        {
            await UpsertAsync(table, Reminder(grain, "tick", TimeSpan.FromMinutes(1)));
            await UpsertAsync(other, Reminder(grain, "foreign", TimeSpan.FromMinutes(1)));
        }

        return (table, grains.OrderBy(g => (int)Hash(g)).ToArray());
    }

    /// <summary>The ring range (begin, end]: wraps when begin is not below end; begin = end is the whole ring.</summary>
    private static bool InRingRange(uint hash, uint begin, uint end) =>
        begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    private static void AssertGrains(IEnumerable<GrainId> expected, ReminderTableData actual)
    {
        Assert.All(actual.Reminders, r => Assert.Equal("tick", r.ReminderName));
        Assert.Equal(
            expected.Select(g => g.ToString()).Order(StringComparer.Ordinal),
            actual.Reminders.Select(r => r.GrainId.ToString()).Order(StringComparer.Ordinal));
    }

    private static uint Hash(GrainId grain) => grain.GetUniformHashCode();

    private async Task<IReminderTable> TableAsync(string serviceId)
    {
        var providers = OrleansAdoNetProviders.ForSilo(database.ConnectionString, $"cluster-{serviceId}", serviceId);
        _providers.Add(providers);
        return await providers.ReminderTableAsync();
    }

    private static async Task<string> UpsertAsync(IReminderTable table, ReminderEntry entry)
    {
        var etag = await table.UpsertRow(entry, Ct);
        Assert.False(string.IsNullOrEmpty(etag));
        return etag;
    }

    private static ReminderEntry Reminder(GrainId grain, string name, TimeSpan period) =>
        new() { GrainId = grain, ReminderName = name, StartAt = Start, Period = period };

    private Task<long> RowCount(string serviceId) => Sql.ScalarAsync<long>(
        database.ConnectionString, "SELECT count(*) FROM orleans_reminders WHERE serviceid = @s", ("s", serviceId));

    private static string NewServiceId() => $"contract-{Guid.NewGuid():N}";

    private static DateTime TruncateToMilliseconds(DateTime value) =>
        new(value.Ticks - (value.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);
}
