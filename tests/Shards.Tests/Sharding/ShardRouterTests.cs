using Shards.Hashing;

namespace Shards.Tests.Sharding;

/// <summary>
/// The pinned routing of grains to shard databases. The golden values below were computed once and must never change:
/// a change would send existing grains to a database that does not hold their state.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ShardRouterTests
{
    private static readonly string[] TwoShards = ["s0", "s1"];

    [Theory]
    [InlineData("", 0xEF46DB3751D8E999UL)] // XXH64 reference vector (seed 0)
    [InlineData("abc", 0x44BC2CF5AD770999UL)] // XXH64 reference vector (seed 0)
    [InlineData("product/sku-00001", 0xD6F57F8F3EAEF947UL)]
    [InlineData("cart/cart-00001", 0x5D6BDFD0DA5439B0UL)]
    public void The_hash_is_XXH64_with_seed_0_of_the_UTF8_text(string text, ulong expected) =>
        Assert.Equal(expected, ShardHash.Of(text));

    [Fact]
    public void The_hash_of_a_long_text_equals_the_hash_of_its_UTF8_bytes()
    {
        var text = string.Concat(Enumerable.Repeat("product/sku-é-", 100));

        Assert.Equal(System.IO.Hashing.XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(text)), ShardHash.Of(text));
    }

    [Theory]
    [InlineData("product/sku-00001", "s1")]
    [InlineData("product/sku-00002", "s1")]
    [InlineData("product/sku-00003", "s0")]
    [InlineData("cart/cart-00001", "s0")]
    [InlineData("product/sku-lamp", "s1")]
    public void Two_shards_route_golden_keys_to_pinned_shards(string grainId, string shard) =>
        Assert.Equal(shard, new ShardRouter(TwoShards).ShardFor(grainId));

    [Theory]
    [InlineData("product/sku-00001", "s2")]
    [InlineData("product/sku-00002", "s1")]
    [InlineData("product/sku-00003", "s2")]
    [InlineData("cart/cart-00001", "s2")]
    [InlineData("cart/cart-ann", "s1")]
    public void Three_shards_route_golden_keys_to_pinned_shards(string grainId, string shard) =>
        Assert.Equal(shard, new ShardRouter(["s0", "s1", "s2"]).ShardFor(grainId));

    [Fact]
    public void Routing_depends_on_the_set_of_shard_names_not_their_order()
    {
        var forward = new ShardRouter(["s0", "s1", "s2"]);
        var backward = new ShardRouter(["s2", "s0", "s1"]);

        foreach (var key in Keys(2000))
        {
            Assert.Equal(forward.ShardFor(key), backward.ShardFor(key));
        }
    }

    [Fact]
    public void One_shard_takes_every_key_and_the_whole_ring()
    {
        var router = new ShardRouter(["main"]);

        Assert.All(Keys(1000), key => Assert.Equal("main", router.ShardFor(key)));
        Assert.Equal(1.0, router.RingShares()["main"], precision: 9);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    public void Ten_thousand_keys_spread_over_the_shards_as_the_ring_shares_say(int shards)
    {
        var names = Enumerable.Range(0, shards).Select(i => $"s{i}").ToList();
        var router = new ShardRouter(names);
        var keys = Keys(10_000).ToList();
        var counts = keys.GroupBy(router.ShardFor).ToDictionary(g => g.Key, g => g.Count());
        var shares = router.RingShares();

        Assert.Equal(1.0, shares.Values.Sum(), precision: 9);
        foreach (var name in names)
        {
            var fair = 1.0 / shards;
            var observed = counts.GetValueOrDefault(name) / (double)keys.Count;
            Assert.InRange(shares[name], fair * 0.9, fair * 1.1); // 512 virtual nodes: within 10 % of a fair share
            Assert.InRange(observed, fair * 0.85, fair * 1.15);
            Assert.InRange(observed, shares[name] - 0.02, shares[name] + 0.02); // sampling error of 10,000 keys
        }
    }

    [Fact]
    public void Adding_a_shard_moves_only_keys_to_the_new_shard_and_about_its_share()
    {
        var before = new ShardRouter(TwoShards);
        var after = new ShardRouter(["s0", "s1", "s2"]);
        var keys = Keys(10_000).ToList();

        var moved = keys.Where(k => before.ShardFor(k) != after.ShardFor(k)).ToList();

        Assert.All(moved, k => Assert.Equal("s2", after.ShardFor(k)));
        Assert.InRange(moved.Count / (double)keys.Count, after.RingShares()["s2"] - 0.02, after.RingShares()["s2"] + 0.02);
    }

    [Fact]
    public void Removing_a_shard_moves_only_its_own_keys()
    {
        var before = new ShardRouter(["s0", "s1", "s2"]);
        var after = new ShardRouter(["s0", "s2"]);

        foreach (var key in Keys(5000).Where(k => before.ShardFor(k) != "s1"))
        {
            Assert.Equal(before.ShardFor(key), after.ShardFor(key));
        }
    }

    [Fact]
    public void A_router_needs_distinct_shard_names()
    {
        Assert.Throws<ArgumentException>(() => new ShardRouter([]));
        Assert.Throws<ArgumentException>(() => new ShardRouter(["s0", "s0"]));
    }

    private static IEnumerable<string> Keys(int count)
    {
        for (var i = 1; i <= count / 2; i++)
        {
            yield return $"product/sku-{i:D5}";
            yield return $"cart/cart-{i:D5}";
        }
    }
}
