namespace Shards.Postgres;

/// <summary>Names under <c>ConnectionStrings</c> (environment: <c>ConnectionStrings__Shards</c>).</summary>
public static class ConnectionStringNames
{
    /// <summary>The PostgreSQL database holding membership, grain state and reminders.</summary>
    public const string Shards = "Shards";
}
