using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shards.Json;

/// <summary>
/// How Shards writes and reads JSON, in the HTTP API and in the CLI's <c>--json</c> alike: camelCase property names,
/// and enums as camelCase strings (an order's status is <c>"paid"</c>, a silo's <c>"shuttingDown"</c>). How strictly the
/// API reads request bodies is the API's own business (its <c>ConfigureJson</c>).
/// </summary>
public static class ShardsJson
{
    /// <summary>The shared options (read-only); the CLI writes with a copy that indents.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Applies Shards' conventions to <paramref name="options"/> (the HTTP API's own options object).</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
    }

    /// <summary>An enum value as Shards' JSON writes it: <c>OrderStatus.Paid</c> is <c>paid</c>.</summary>
    public static string Name<T>(T value) where T : struct, Enum => JsonNamingPolicy.CamelCase.ConvertName(value.ToString());

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
