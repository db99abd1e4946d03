using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Shards.Api.Endpoints;
using Shards.Api.Options;
using Shards.Contracts.Common;

namespace Shards.Tests.Api;

/// <summary>
/// A 503's detail says what the caller may assume, by method: a read changed nothing; a write names Idempotency-Key. A silo
/// cut off from the cluster's majority is retried, then answered 503 with Retry-After.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class UnavailableDetailTests
{
    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    public async Task A_read_that_got_503_says_nothing_changed_once_and_never_names_idempotency_key(string method)
    {
        var detail = await UnavailableDetailAsync(method);

        Assert.EndsWith("Nothing changed; retry later.", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Idempotency-Key", detail, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(detail, "retry", System.Text.RegularExpressions.RegexOptions.IgnoreCase));
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task A_write_that_got_503_says_its_outcome_is_unknown_and_to_resend_it_with_the_same_idempotency_key(string method)
    {
        var detail = await UnavailableDetailAsync(method);

        Assert.Contains("Its outcome is unknown: send it again with the same Idempotency-Key", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("retry later", detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_call_refused_by_a_silo_cut_off_from_the_cluster_is_retried_then_answered_503_with_retry_after()
    {
        var calls = 0;

        var (status, retryAfter, detail) = await UnavailableAsync("GET", () =>
        {
            calls++;
            throw new ShardsException(ShardsErrorCode.SiloCutOff, "silo S127.0.0.1:11111:1 cannot reach a majority of the cluster");
        }, TimeSpan.FromMilliseconds(200));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, status);
        Assert.False(string.IsNullOrEmpty(retryAfter));
        Assert.True(calls > 1, $"the call was made {calls} time(s): a refusal by a cut-off silo is worth another attempt");
        Assert.Contains("cannot reach a majority of the cluster", detail, StringComparison.Ordinal);
        Assert.EndsWith("Nothing changed; retry later.", detail, StringComparison.Ordinal);
    }

    private static async Task<string> UnavailableDetailAsync(string method) =>
        (await UnavailableAsync(method, () => throw new ShardsException(ShardsErrorCode.StorageUnavailable, "db down"), TimeSpan.Zero)).Detail;

    private static async Task<(int Status, string? RetryAfter, string Detail)> UnavailableAsync(string method, Func<Task<string>> call, TimeSpan retryBudget)
    {
        await using var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var options = Microsoft.Extensions.Options.Options.Create(new ShardsApiOptions { RetryBudget = retryBudget });
        var calls = new GrainCalls(options, TimeProvider.System, NullLogger<GrainCalls>.Instance);
        var http = new DefaultHttpContext { RequestServices = services };
        http.Request.Method = method;
        http.Request.Path = "/api/products/sku-1001";
        http.Response.Body = new MemoryStream();

        var result = await calls.RunAsync(http, "Reading product sku-1001", call, TypedResults.Ok);
        await result.ExecuteAsync(http);

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, http.Response.StatusCode);
        http.Response.Body.Position = 0;
        var detail = JsonDocument.Parse(http.Response.Body).RootElement.GetProperty("detail").GetString()!;
        return (http.Response.StatusCode, http.Response.Headers.RetryAfter.ToString(), detail);
    }
}
