using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Shards.Api.Hosting;
using Shards.Cli.Core;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Contracts.Orders;
using Shards.Json;

namespace Shards.Tests.Api;

/// <summary>
/// One shape, one casing: the HTTP API's JSON options and the CLI's <c>--json</c> write every entity (product, cart,
/// order, member, location) identically, with camelCase names and camelCase enum strings.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class SharedJsonTests
{
    private static readonly DateTimeOffset s_at = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<object> Entities() => new()
    {
        new ProductSnapshot("sku-1001", "Desk lamp", 12.50m, 10, 3, Reserved: 1, Sold: 2, ReservedOutsideOrders: 1),
        new CartView("cart-1001", [new CartLineView("sku-1001", 2, 12.50m, 25.00m)], 25.00m, 4, CheckoutOrderId: "order-1001"),
        Order(OrderStatus.Paid, CheckoutStage.Completed),
        new MemberDocument("silo-1", "127.0.0.1:11111", 7, "S127.0.0.1:11111:7", SiloStatus.ShuttingDown) { ServedThisRequest = true },
        new GrainLocation("product/sku-1001", "S127.0.0.1:11111:7", "silo-1", s_at),
    };

    [Theory]
    [MemberData(nameof(Entities))]
    public void The_http_api_and_the_cli_write_an_entity_as_the_same_json(object entity)
    {
        var http = JsonSerializer.Serialize(entity, entity.GetType(), ApiJsonOptions());
        var cli = CliOutput.ToJson(entity);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(http), JsonNode.Parse(cli)), $"HTTP: {http}\nCLI: {cli}");
    }

    [Fact]
    public void An_order_is_written_with_camel_case_names_and_lower_case_status_and_stage_and_no_payment_token()
    {
        var json = JsonNode.Parse(CliOutput.ToJson(Order(OrderStatus.Paid, CheckoutStage.Completed)))!.AsObject();

        Assert.Equal("paid", json["status"]!.GetValue<string>());
        Assert.Equal("completed", json["stage"]!.GetValue<string>());
        Assert.Equal("****sa", json["paymentTokenHint"]!.GetValue<string>());
        Assert.False(json.ContainsKey("paymentToken"));
        Assert.Contains("order-1001", json["orderId"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_member_is_written_with_name_and_a_camel_case_status_and_leaves_out_what_its_source_does_not_know()
    {
        var fromHttp = JsonNode.Parse(CliOutput.ToJson(new MemberDocument("silo-1", "127.0.0.1:11111", 7, "S127.0.0.1:11111:7", SiloStatus.Active)
        {
            ServedThisRequest = false,
        }))!.AsObject();
        var fromTable = JsonNode.Parse(CliOutput.ToJson(new MemberDocument("silo-2", "127.0.0.1:11112", 8, "S127.0.0.1:11112:8", SiloStatus.ShuttingDown)
        {
            HostName = "host", GatewayPort = 30000, StartTime = s_at, IAmAliveTime = s_at, Pid = 42,
        }))!.AsObject();

        Assert.Equal(["name", "address", "generation", "siloAddress", "status", "servedThisRequest"], fromHttp.Select(p => p.Key));
        Assert.Equal("active", fromHttp["status"]!.GetValue<string>());
        Assert.Equal("shuttingDown", fromTable["status"]!.GetValue<string>());
        Assert.Equal("silo-2", fromTable["name"]!.GetValue<string>());
        Assert.False(fromTable.ContainsKey("siloName"));
        Assert.False(fromTable.ContainsKey("servedThisRequest"));
        Assert.False(fromTable.ContainsKey("httpPort"));
        Assert.Equal(42, fromTable["pid"]!.GetValue<int>());
    }

    /// <summary>The serializer options the API's endpoints answer with, as AddShardsApi configures them.</summary>
    private static JsonSerializerOptions ApiJsonOptions()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.AddShardsApi();
        using var services = builder.Services.BuildServiceProvider();
        return services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
    }

    private static OrderDocument Order(OrderStatus status, CheckoutStage stage) => OrderDocument.From(new OrderView(
        "order-1001", "cart-1001", status, stage, [new OrderLineView("sku-1001", 2, 12.50m, 25.00m)], 25.00m, "tok-visa",
        status == OrderStatus.Failed ? "the payment was declined: card declined (token tok-visa)" : null, 0,
        [new OrderStepView("payment-requested", "25.00 with tok-visa", s_at)], s_at, s_at));
}
