using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Serialization;
using Orleans.Storage;
using Shards.Contracts;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Grains.Carts;
using Shards.Grains.Common;
using Shards.Storage;
using Shards.Tests.Grains;

namespace Shards.Tests.ExactlyOnce;

/// <summary>
/// The request log (docs/exactly-once.md) against PostgreSQL: a command runs once per request ID however many other
/// commands the key took meanwhile, however late the copy comes, after a lost commit answer, and across activations.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(ExactlyOnceClusterCollection.Name)]
public sealed class RequestLogTests(ExactlyOnceClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    /// <summary>Calls made inside the silo: no client retry filter, so the caller sees the grain's own answer.</summary>
    private IGrainFactory InsideTheSilo => fixture.SiloServices.GetRequiredService<IGrainFactory>();

    [Fact]
    public async Task A_copy_sent_after_a_hundred_other_writes_to_the_key_is_answered_with_its_original_outcome_not_applied_again()
    {
        var (cart, sku) = await CartWithProductAsync();
        var first = new Request();
        var original = await first.SendAsync(() => cart.AddAsync(sku, 1));
        for (var i = 0; i < 100; i++)
        {
            await cart.AddAsync(sku, 1);
        }

        var copy = await first.SendAsync(() => cart.AddAsync(sku, 1));
        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var copyAfterReactivation = await first.SendAsync(() => cart.AddAsync(sku, 1));

        AssertSame(original, copy);
        AssertSame(original, copyAfterReactivation);
        Assert.Equal((1, 1L), (Assert.Single(original.Lines).Quantity, original.Version));
        Assert.Equal(101, Assert.Single((await cart.GetAsync()).Lines).Quantity);
    }

    [Fact]
    public async Task A_retry_after_a_commit_whose_answer_was_lost_gets_the_original_outcome_never_a_conflict()
    {
        var (cart, sku) = await CartWithProductAsync();
        fixture.Storage(StorageNames.Carts).LoseNextReplyFor(cart.GetGrainId());

        // The grain answers "outcome unknown"; the client's retry (same request ID) gets the stored outcome.
        var added = await cart.AddAsync(sku, 2);
        var next = await cart.AddAsync(sku, 1);

        Assert.Equal((2, 1L), (Assert.Single(added.Lines).Quantity, added.Version));
        Assert.Equal((3, 2L), (Assert.Single(next.Lines).Quantity, next.Version));
    }

    [Fact]
    public async Task A_lost_commit_answer_is_reported_as_an_unknown_outcome_and_the_next_command_builds_on_what_was_stored()
    {
        var sku = Keys.New("sku");
        var product = Grains.GetGrain<IProductGrain>(sku);
        await product.UpsertAsync(new ProductDefinition("Lamp", 10m, 10));
        fixture.Storage(StorageNames.Catalog).LoseNextReplyFor(product.GetGrainId());

        var reserved = await product.ReserveAsync(3);
        fixture.Storage(StorageNames.Catalog).LoseNextReplyFor(product.GetGrainId());
        var unknown = await Assert.ThrowsAsync<ShardsException>(() => new Request().SendAsync(() => InsideTheSilo.GetGrain<IProductGrain>(sku).ReleaseAsync(1)));
        var after = await product.ReserveAsync(2);

        Assert.Equal((7, 2L), (reserved.Stock, reserved.Version));
        Assert.Equal(ShardsErrorCode.StorageUnavailable, unknown.Code);
        Assert.Contains("outcome is unknown", unknown.Message, StringComparison.Ordinal);
        Assert.Equal((6, 4L), (after.Stock, after.Version));
    }

    [Fact]
    public async Task A_request_another_activation_applied_is_answered_from_the_log_after_the_version_conflict()
    {
        var (cart, sku) = await CartWithProductAsync();
        await cart.AddAsync(sku, 1);
        var elsewhere = new Request();
        var theirAnswer = await ApplyBehindTheGrainAsync(cart.GetGrainId(), elsewhere);

        var copy = await elsewhere.SendAsync(() => cart.AddAsync(sku, 5));

        AssertSame(theirAnswer, copy);
        Assert.Equal(6, Assert.Single((await cart.GetAsync()).Lines).Quantity);
    }

    [Fact]
    public async Task A_request_past_its_deadline_is_refused_as_expired_and_changes_nothing()
    {
        var (cart, sku) = await CartWithProductAsync();
        await cart.AddAsync(sku, 1);
        var late = new Request(DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1));

        var refused = await Assert.ThrowsAsync<ShardsException>(() => late.SendAsync(() => cart.AddAsync(sku, 1)));

        Assert.Equal(ShardsErrorCode.Expired, refused.Code);
        Assert.Contains("not applied", refused.Message, StringComparison.Ordinal);
        Assert.Equal((1, 1L), (Assert.Single((await cart.GetAsync()).Lines).Quantity, (await cart.GetAsync()).Version));
    }

    [Fact]
    public async Task A_copy_arriving_after_the_deadline_of_a_request_that_was_applied_gets_the_original_outcome_from_the_database()
    {
        var (cart, sku) = await CartWithProductAsync();
        var soon = new Request(DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(400));
        var original = await soon.SendAsync(() => cart.AddAsync(sku, 4));
        while (DateTimeOffset.UtcNow <= soon.Deadline)
        {
            await Task.Delay(50); // the request's own deadline has to pass: that is the behaviour under test
        }

        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var late = await soon.SendAsync(() => cart.AddAsync(sku, 4));

        AssertSame(original, late);
        Assert.Equal(4, Assert.Single((await cart.GetAsync()).Lines).Quantity);
    }

    [Fact]
    public async Task A_deadline_further_ahead_than_a_request_may_live_is_refused()
    {
        var (cart, sku) = await CartWithProductAsync();
        var forever = new Request(DateTimeOffset.UtcNow + RequestIds.MaxLifetime + TimeSpan.FromMinutes(5));

        var refused = await Assert.ThrowsAsync<ShardsException>(() => forever.SendAsync(() => cart.AddAsync(sku, 1)));

        Assert.Equal(ShardsErrorCode.Validation, refused.Code);
        Assert.Empty((await cart.GetAsync()).Lines);
    }

    [Fact]
    public async Task Each_applied_request_is_one_log_row_stored_with_the_change_and_a_refused_one_is_none()
    {
        var (cart, sku) = await CartWithProductAsync();
        var applied = new Request();
        await applied.SendAsync(() => cart.AddAsync(sku, 1));
        var refused = new Request();
        await Assert.ThrowsAsync<ShardsException>(() => refused.SendAsync(() => cart.AddAsync("sku-that-does-not-exist", 1)));

        Assert.Equal(1, await LogRowsAsync(applied.Id));
        Assert.Equal(0, await LogRowsAsync(refused.Id));
    }

    [Fact]
    public async Task A_client_call_gets_a_deadline_of_its_retry_budget_and_its_log_row_expires_with_it()
    {
        var (cart, sku) = await CartWithProductAsync();
        var before = DateTimeOffset.UtcNow;

        await cart.AddAsync(sku, 1);

        var expiresAt = await SingleLogRowExpiryAsync(cart.GetPrimaryKeyString());
        var lifetime = new Shards.Client.ShardsClientOptions().RequestLifetime;
        Assert.InRange(expiresAt, before + lifetime - TimeSpan.FromSeconds(1), DateTimeOffset.UtcNow + lifetime + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task The_pruner_deletes_log_rows_past_their_retention_and_keeps_the_others()
    {
        var kept = Guid.NewGuid();
        var pruned = Guid.NewGuid();
        await using (var connection = new NpgsqlConnection(fixture.ConnectionString))
        {
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand(
                """
                INSERT INTO shards_request_log (grainidhash, requestid, serviceid, graintypestring, grainkey, expires_at)
                VALUES (1, @kept, 'prune-test', 'cart', 'k', now() - interval '5 minutes'),
                       (1, @pruned, 'prune-test', 'cart', 'k', now() - interval '2 hours')
                """, connection);
            insert.Parameters.AddWithValue("kept", kept);
            insert.Parameters.AddWithValue("pruned", pruned);
            await insert.ExecuteNonQueryAsync();
        }

        var pruner = new Shards.Storage.Postgres.RequestLogPruner(
            Shards.Storage.Postgres.Sharding.ShardSet.Resolve(null, fixture.ConnectionString),
            Shards.Tests.Infrastructure.TestPostgres.DataSources,
            Microsoft.Extensions.Options.Options.Create(new RequestLogOptions { Retention = TimeSpan.FromHours(1), PruneBatchSize = 1 }),
            TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Shards.Storage.Postgres.RequestLogPruner>.Instance);
        await using (pruner)
        {
            Assert.True(await pruner.PruneOnceAsync(CancellationToken.None) >= 1);
        }

        Assert.Equal(1, await LogRowsAsync(kept));
        Assert.Equal(0, await LogRowsAsync(pruned));
    }

    /// <summary>Views are records holding lists: compared by what they serialise to.</summary>
    private static void AssertSame(CartView expected, CartView actual) =>
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(expected), System.Text.Json.JsonSerializer.Serialize(actual));

    private async Task<(ICartGrain Cart, string Sku)> CartWithProductAsync()
    {
        var sku = Keys.New("sku");
        await Grains.GetGrain<IProductGrain>(sku).UpsertAsync(new ProductDefinition("Cup", 2m, 1_000));
        return (Grains.GetGrain<ICartGrain>(Keys.New("cart")), sku);
    }

    /// <summary>
    /// Plays another activation of the cart (a brief duplicate while the cluster changed) that applied
    /// <paramref name="request"/>: adds 5 through the real storage, logging the request with its answer.
    /// </summary>
    private async Task<CartView> ApplyBehindTheGrainAsync(GrainId cartId, Request request)
    {
        var storage = fixture.Storage(StorageNames.Carts).Inner;
        var stored = new GrainState<CartState>();
        await storage.ReadStateAsync(StateNames.Cart, cartId, stored);
        var current = Assert.IsType<CartState>(stored.State);
        var line = Assert.Single(current.Lines);
        var next = new CartState
        {
            Lines = [new CartLineState { Sku = line.Sku, Quantity = line.Quantity + 5, UnitPrice = line.UnitPrice }],
            Version = current.Version + 1,
        };
        var answer = new CartView(cartId.Key.ToString() ?? string.Empty, [new CartLineView(line.Sku, line.Quantity + 5, line.UnitPrice, (line.Quantity + 5) * line.UnitPrice)], (line.Quantity + 5) * line.UnitPrice, next.Version, null, []);
        var serializer = fixture.SiloServices.GetRequiredService<Serializer>();
        ((IRequestLoggedState)next).Applying = new LoggedRequest(request.Id, request.Deadline, serializer.SerializeToArray(answer));
        stored.State = next;
        await storage.WriteStateAsync(StateNames.Cart, cartId, stored);
        return answer;
    }

    private async Task<DateTimeOffset> SingleLogRowExpiryAsync(string cartId)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var read = new NpgsqlCommand("SELECT expires_at FROM shards_request_log WHERE graintypestring = 'cart' AND grainkey = @key", connection);
        read.Parameters.AddWithValue("key", cartId);
        return new DateTimeOffset((DateTime)(await read.ExecuteScalarAsync())!, TimeSpan.Zero);
    }

    private async Task<long> LogRowsAsync(Guid requestId)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM shards_request_log WHERE requestid = @id", connection);
        count.Parameters.AddWithValue("id", requestId);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    /// <summary>One request as a client sends it: one ID and one deadline for every copy.</summary>
    private sealed class Request(DateTimeOffset? deadline = null)
    {
        public Guid Id { get; } = Guid.NewGuid();

        public DateTimeOffset Deadline { get; } = deadline ?? DateTimeOffset.UtcNow + TimeSpan.FromMinutes(1);

        public async Task<T> SendAsync<T>(Func<Task<T>> call)
        {
            RequestContext.Set(RequestIds.ContextKey, Id);
            RequestContext.Set(RequestIds.DeadlineContextKey, Deadline);
            try
            {
                return await call();
            }
            finally
            {
                RequestContext.Remove(RequestIds.ContextKey);
                RequestContext.Remove(RequestIds.DeadlineContextKey);
            }
        }
    }
}
