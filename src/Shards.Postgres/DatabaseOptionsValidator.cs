using Microsoft.Extensions.Options;

namespace Shards.Postgres;

/// <summary>Checks <c>Shards:Database</c> at start.</summary>
public sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options) =>
        options.StartupWait >= TimeSpan.Zero
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Shards:Database:StartupWait ({options.StartupWait}) cannot be negative (0 means: do not wait for PostgreSQL).");
}
