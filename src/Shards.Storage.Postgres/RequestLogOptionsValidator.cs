using Microsoft.Extensions.Options;
using Shards.Storage;

namespace Shards.Storage.Postgres;

/// <summary>Refuses request-log settings that would let a request outlive the log that deduplicates it.</summary>
public sealed class RequestLogOptionsValidator : IValidateOptions<RequestLogOptions>
{
    public ValidateOptionsResult Validate(string? name, RequestLogOptions options) =>
        options.Validate() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
}
