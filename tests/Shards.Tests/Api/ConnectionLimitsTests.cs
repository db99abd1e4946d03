using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Api;

/// <summary>
/// What Kestrel accepts from a connection (Shards:Api:Limits): too many or too large headers get 431, a client that is
/// slow to send its headers is answered 408 and cut off, and a normal request still passes.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class ConnectionLimitsTests
{
    private const string Key = "limits-key";

    [Fact(Timeout = 120_000)]
    public async Task Too_many_or_too_large_headers_get_431_and_a_normal_request_passes()
    {
        await using var silo = ApiSilo.StartOnKestrel(
            await TestPostgres.CreateDatabaseAsync("limits"), $"Shards:Api:Keys:0={Key}",
            "Shards:Api:Limits:MaxRequestHeaderCount=20", "Shards:Api:Limits:MaxRequestHeadersBytes=4096");
        await silo.Started;
        using var http = new HttpClient { BaseAddress = silo.BaseAddress };

        using var many = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        for (var i = 0; i < 30; i++)
        {
            many.Headers.Add($"X-Padding-{i}", "x");
        }

        using var large = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        large.Headers.Add("X-Padding", new string('x', 8000));
        using var normal = new HttpRequestMessage(HttpMethod.Get, "/api/members");
        normal.Headers.Add("X-Api-Key", Key);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, (await http.SendAsync(many)).StatusCode);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, (await http.SendAsync(large)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(normal)).StatusCode);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_client_that_never_finishes_its_headers_is_answered_408_and_disconnected()
    {
        await using var silo = ApiSilo.StartOnKestrel(
            await TestPostgres.CreateDatabaseAsync("slowloris"), $"Shards:Api:Keys:0={Key}", "Shards:Api:Limits:RequestHeadersTimeout=00:00:01");
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, silo.BaseAddress!.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Slow: "));

        var watch = Stopwatch.StartNew();
        var answer = await ReadUntilClosedAsync(stream, TimeSpan.FromSeconds(30));

        Assert.StartsWith("HTTP/1.1 408", answer, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"the connection stayed open {watch.Elapsed}");
    }

    /// <summary>Everything the server sends until it closes the connection (bounded: an open connection fails the test).</summary>
    private static async Task<string> ReadUntilClosedAsync(NetworkStream stream, TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        var received = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (IOException)
        {
            // Reset by the server after its answer: closed too.
        }

        return received.ToString();
    }
}
