namespace Shards.Postgres;

/// <summary>The ADO.NET invariant that makes Orleans' providers load Npgsql's factory by reflection.</summary>
public static class AdoNetInvariants
{
    public const string PostgreSql = "Npgsql";
}
