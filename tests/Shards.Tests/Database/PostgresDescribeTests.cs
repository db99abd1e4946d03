using Shards.Postgres;

namespace Shards.Tests.Database;

/// <summary>How Shards names a database in messages and in a launcher's state file: hosts and ports, never the password.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class PostgresDescribeTests
{
    [Theory]
    [InlineData("Host=127.0.0.1;Port=5433;Database=shards;Password=secret", "127.0.0.1:5433/shards")]
    [InlineData("Host=db;Database=shards", "db:5432/shards")]
    [InlineData("Host=127.0.0.1:12778,127.0.0.1:11271;Database=shards;Target Session Attributes=read-write;Password=secret", "127.0.0.1:12778,127.0.0.1:11271/shards")]
    [InlineData("Host=a,b:6000;Port=5444;Database=x", "a:5444,b:6000/x")]
    [InlineData("Host=[::1]:5440,[::1];Port=5441;Database=x", "[::1]:5440,[::1]:5441/x")]
    public void A_database_is_named_by_each_host_and_port(string connectionString, string expected)
    {
        Assert.Equal(expected, PostgresAvailability.Describe(connectionString));
    }

    [Fact]
    public void A_connection_string_Npgsql_cannot_parse_is_named_as_such()
    {
        Assert.Equal("(unparsable connection string)", PostgresAvailability.Describe("Host=x;Nonsense Keyword=1"));
    }

    [Fact]
    public void A_failed_connection_is_explained_by_what_happened_underneath()
    {
        var failed = new Npgsql.NpgsqlException("Unable to connect to a suitable host. Check inner exception for more details.", new System.Net.Sockets.SocketException(111));

        var reason = PostgresAvailability.Reason(failed);

        Assert.StartsWith("Unable to connect to a suitable host (", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("inner exception", reason, StringComparison.Ordinal);
        Assert.Equal("timed out", PostgresAvailability.Reason(new TimeoutException("timed out.")));
    }
}
