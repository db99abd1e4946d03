using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Shards.Api.Endpoints;
using Shards.Api.Idempotency;
using Shards.Api.Options;
using Shards.Api.Security;
using Shards.Contracts.Common;
using Shards.Postgres;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Api;

/// <summary>
/// The request flow of <see cref="IdempotentRequests"/> and <see cref="GrainCalls"/> with the real record store and a
/// stand-in grain call: the request ID and deadline every call carries, a grain answering Expired (record re-armed
/// under a new request ID, or, past the request log's retention, 409 outcome unknown), the compare-and-set.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class IdempotentRequestsTests : IAsyncLifetime
{
    private ServiceProvider _services = null!;
    private string _connectionString = null!;

    public async Task InitializeAsync()
    {
        _connectionString = await TestPostgres.CreateDatabaseAsync("idemflow");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddProblemDetails();
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new ShardsApiOptions { RetryBudget = TimeSpan.Zero }));
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new ClusterOptions { ClusterId = "flow", ServiceId = "flow" }));
        services.AddSingleton(TimeProvider.System);
        services.AddShardsDataSources(_connectionString); // the main database's data source, as a silo registers it
        services.AddSingleton<IdempotencyStore>();
        services.AddSingleton<GrainCalls>();
        services.AddSingleton<RequestIdentity>();
        services.AddSingleton<IdempotentRequests>();
        _services = services.BuildServiceProvider();
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    [Fact]
    public async Task Every_grain_call_carries_the_request_id_and_a_deadline_and_an_expired_answer_is_a_409()
    {
        var options = _services.GetRequiredService<IOptions<ShardsApiOptions>>().Value;
        var seen = new List<(Guid? Id, DateTimeOffset? Deadline)>();
        Task<string> Record()
        {
            seen.Add((RequestIds.CurrentId(), RequestIds.CurrentDeadline()));
            return Task.FromResult("done");
        }

        var before = DateTimeOffset.UtcNow;
        var keyless = await SendAsync(key: null, Record);
        var keyed = await SendAsync($"flow-{Guid.NewGuid():N}", Record);
        var expired = await SendAsync(key: null, () => throw new ShardsException(ShardsErrorCode.Expired, "Its deadline passed before it was applied."));

        Assert.Equal(HttpStatusCode.OK, keyless.Status);
        Assert.Equal(HttpStatusCode.OK, keyed.Status);
        Assert.All(seen, call => Assert.NotNull(call.Id));
        Assert.Equal(keyless.RequestId, seen[0].Id);
        Assert.Equal(keyed.RequestId, seen[1].Id);
        var keylessLife = options.RetryBudget + options.AttemptTimeout + ShardsApiOptions.KeylessDeadlineMargin;
        Assert.InRange(seen[0].Deadline!.Value, before + keylessLife, DateTimeOffset.UtcNow + keylessLife);
        Assert.InRange(seen[1].Deadline!.Value, before + options.Idempotency.RequestLifetime, DateTimeOffset.UtcNow + options.Idempotency.RequestLifetime);
        Assert.Equal(HttpStatusCode.Conflict, expired.Status);
        Assert.Equal("expired", expired.Json.GetProperty("code").GetString());
        Assert.Contains("was not applied", expired.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_grain_answering_expired_re_arms_the_record_under_a_new_request_id_and_runs_it()
    {
        var key = $"flow-{Guid.NewGuid():N}";
        var unknown = await SendAsync(key, () => throw new ShardsException(ShardsErrorCode.StorageUnavailable, "The outcome is unknown."));
        var first = unknown.RequestId;
        await ExecuteAsync("UPDATE shards_http_idempotency SET deadline = now() - interval '1 minute' WHERE idempotency_key = @key", key);
        var calls = new List<(Guid Id, DateTimeOffset Deadline)>();

        var rerun = await SendAsync(key, () =>
        {
            var id = RequestIds.CurrentId()!.Value;
            calls.Add((id, RequestIds.CurrentDeadline()!.Value));
            return id == first
                ? throw new ShardsException(ShardsErrorCode.Expired, "Its deadline passed before it was applied.")
                : Task.FromResult(id.ToString());
        });
        var replayed = await SendAsync(key, () => throw new InvalidOperationException("a replay must not call the grain"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, unknown.Status);
        Assert.Equal(HttpStatusCode.OK, rerun.Status);
        Assert.Equal(2, calls.Count);
        Assert.Equal(first, calls[0].Id);
        Assert.NotEqual(first, calls[1].Id);
        Assert.True(calls[1].Deadline > DateTimeOffset.UtcNow + TimeSpan.FromMinutes(4));
        Assert.Equal(calls[1].Id.ToString(), rerun.Json.GetString());
        Assert.Equal(calls[1].Id, rerun.RequestId);
        Assert.Equal(HttpStatusCode.OK, replayed.Status);
        Assert.True(replayed.Replayed);
        Assert.Equal(calls[1].Id.ToString(), replayed.Json.GetString());
    }

    [Fact]
    public async Task Expired_beyond_the_request_log_retention_is_a_stored_409_saying_the_outcome_is_not_known()
    {
        var key = $"flow-{Guid.NewGuid():N}";
        await SendAsync(key, () => throw new ShardsException(ShardsErrorCode.StorageUnavailable, "The outcome is unknown."));
        await ExecuteAsync("UPDATE shards_http_idempotency SET deadline = now() - interval '2 hours' WHERE idempotency_key = @key", key);
        var calls = 0;

        var unknown = await SendAsync(key, () =>
        {
            calls++;
            throw new ShardsException(ShardsErrorCode.Expired, "The request's outcome is no longer known.");
        });
        var replayed = await SendAsync(key, () => throw new InvalidOperationException("a replay must not call the grain"));

        Assert.Equal(1, calls);
        Assert.Equal(HttpStatusCode.Conflict, unknown.Status);
        Assert.Equal("outcomeUnknown", unknown.Json.GetProperty("code").GetString());
        Assert.Contains("new Idempotency-Key", unknown.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, replayed.Status);
        Assert.True(replayed.Replayed);
        Assert.Equal(unknown.Json.GetRawText(), replayed.Json.GetRawText());
    }

    [Fact]
    public async Task Of_two_requests_that_saw_one_expiry_one_re_arms_the_record()
    {
        var store = _services.GetRequiredService<IdempotencyStore>();
        var key = new IdempotencyKeyRef("p-cas", $"flow-{Guid.NewGuid():N}");
        var expired = Guid.NewGuid();
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromMinutes(5);
        await store.BeginAsync(key, new RequestFingerprint("POST", "/api/x", new byte[32]), expired, DateTimeOffset.UtcNow, deadline, CancellationToken.None);

        var first = await store.RearmAsync(key, expired, Guid.NewGuid(), deadline, CancellationToken.None);
        var second = await store.RearmAsync(key, expired, Guid.NewGuid(), deadline, CancellationToken.None);

        Assert.True(first);
        Assert.False(second);
    }

    [Fact]
    public async Task An_applied_requests_answer_is_stored_behind_its_reply_and_replayed_by_another_silo()
    {
        var key = $"flow-{Guid.NewGuid():N}";
        var first = await SendAsync(key, () => Task.FromResult("applied"));

        // The reply did not wait for the answer's commit; the answer is in the record soon after.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int? status;
        while ((status = await StoredStatusAsync(key)) is null && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        // Another silo: its own filter, with no record of what this one is storing.
        var otherSilo = new IdempotentRequests(
            _services.GetRequiredService<IdempotencyStore>(), _services.GetRequiredService<IOptions<ShardsApiOptions>>(), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<IdempotentRequests>.Instance);
        var retry = await SendAsync(key, () => throw new InvalidOperationException("a replay must not call the grain"), otherSilo);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.False(first.Replayed);
        Assert.Equal(200, status);
        Assert.Equal(HttpStatusCode.OK, retry.Status);
        Assert.True(retry.Replayed);
        Assert.Equal("applied", retry.Json.GetString());
        Assert.Equal(first.RequestId, retry.RequestId);
    }

    private async Task<int?> StoredStatusAsync(string key)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT status FROM shards_http_idempotency WHERE idempotency_key = @key", connection);
        command.Parameters.AddWithValue("key", key);
        return await command.ExecuteScalarAsync() is int value ? value : null;
    }

    private async Task<Answer> SendAsync(string? key, Func<Task<string>> call, IdempotentRequests? silo = null)
    {
        var http = new DefaultHttpContext { RequestServices = _services };
        http.Request.Method = HttpMethods.Post;
        http.Request.Path = "/api/things/thing-1/do";
        if (key is not null)
        {
            http.Request.Headers["Idempotency-Key"] = key;
        }

        http.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ApiKeyTickets.PrincipalClaimType, "p-test")], "test"));
        http.Response.Body = new MemoryStream();
        var calls = _services.GetRequiredService<GrainCalls>();
        var filter = silo ?? _services.GetRequiredService<IdempotentRequests>();
        EndpointFilterDelegate endpoint = async _ => await calls.RunAsync(http, "Doing the thing", call, TypedResults.Ok);

        var result = await _services.GetRequiredService<RequestIdentity>().InvokeAsync(
            new DefaultEndpointFilterInvocationContext(http), context => filter.InvokeAsync(context, endpoint));
        await ((IResult)result!).ExecuteAsync(http);

        http.Response.Body.Position = 0;
        var body = await new StreamReader(http.Response.Body).ReadToEndAsync();
        return new Answer(
            (HttpStatusCode)http.Response.StatusCode,
            JsonDocument.Parse(body).RootElement.Clone(),
            Guid.Parse(http.Response.Headers["X-Shards-Request-Id"].ToString()),
            http.Response.Headers["Idempotent-Replayed"].ToString() == "true");
    }

    private async Task ExecuteAsync(string sql, string key)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("key", key);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    private sealed record Answer(HttpStatusCode Status, JsonElement Json, Guid RequestId, bool Replayed);
}
