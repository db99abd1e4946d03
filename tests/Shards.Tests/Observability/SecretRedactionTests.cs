using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Npgsql;
using Shards.Tests.Api;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Observability;

/// <summary>
/// Secrets never reach the log (nor the metrics): a silo started with a password in its connection string and two API keys, logging
/// everything at Debug (Orleans' option dumps, Npgsql, the API's refusals), writes neither the password nor a key.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
[Collection(ObservabilityCollection.Name)]
public sealed class SecretRedactionTests
{
    private const string Password = "pw-Zq81-never-logged";
    private const string Key = "key-Vb52-never-logged";
    private const string OtherKey = "key-Hn07-never-logged";
    private const string WrongKey = "key-Xx99-wrong-never-logged";

    [Fact(Timeout = 120_000)]
    public async Task Connection_string_passwords_and_api_keys_never_appear_in_the_silo_log()
    {
        // The private test server's own password (a server that trusts loopback connections carries this one unneeded).
        var database = new NpgsqlConnectionStringBuilder(await TestPostgres.CreateDatabaseAsync("redact"));
        var password = database.Password ??= Password;
        var connectionString = database.ConnectionString;
        var log = new CapturingLoggerProvider();
        await using (var silo = ApiSilo.Start(
            connectionString,
            builder =>
            {
                builder.Logging.AddProvider(log);
                builder.Logging.AddFilter<CapturingLoggerProvider>(category: null, LogLevel.Debug);
            },
            $"Shards:Api:Keys:0={Key}", $"Shards:Api:Keys:1={OtherKey}", "Shards:Dashboard:Enabled=true"))
        {
            await silo.Started;
            using var client = await silo.ClientAsync(Key);
            using var wrong = await silo.ClientAsync(WrongKey);
            Assert.Equal(HttpStatusCode.OK, (await client.PutJsonAsync("/api/products/sku-redact", """{"name":"Safe","price":1,"stock":1}""")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/products/sku-redact")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/metrics")).StatusCode);
            var metrics = await client.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            var text = await metrics.Content.ReadAsStringAsync();
            Assert.Contains("db_client_", text, StringComparison.Ordinal); // Npgsql's pool names are connection strings...
            Assert.DoesNotContain(password, text, StringComparison.Ordinal); // ...without their password
        }

        var lines = log.Lines.ToList();
        Assert.True(lines.Count > 50, $"only {lines.Count} log lines were captured");
        Assert.Contains(lines, l => l.Contains("wrong API key", StringComparison.Ordinal)); // the refusal was logged, without the key
        foreach (var secret in new[] { password, Key, OtherKey, WrongKey })
        {
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }

    /// <summary>Keeps every formatted message, exception text and scope-free state of every logger.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
                lines.Enqueue($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {values} {exception}");
            }
        }
    }
}
