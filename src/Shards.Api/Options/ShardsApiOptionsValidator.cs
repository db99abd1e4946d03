using System.Net;
using Microsoft.Extensions.Options;
using Shards.Api.Security;
using Shards.Contracts.Common;

namespace Shards.Api.Options;

/// <summary>Checks the HTTP API settings at start, with messages that say which setting to fix.</summary>
internal sealed class ShardsApiOptionsValidator : IValidateOptions<ShardsApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ShardsApiOptions options)
    {
        var failures = new List<string>();
        if (!IPAddress.TryParse(options.ListenAddress, out _))
        {
            failures.Add($"Shards:Api:ListenAddress '{options.ListenAddress}' is not an IP address.");
        }

        if (options.Port is < 1 or > 65535)
        {
            failures.Add($"Shards:Api:Port {options.Port} is not a port (1-65535); set Shards:Api:Enabled=false to serve no HTTP.");
        }

        failures.AddRange(ValidateKeys(options));

        var rate = options.RateLimit;
        if (rate.Enabled && (rate.PermitsPerSecond < 1 || rate.Burst < 1 || rate.QueueLimit < 0 || rate.AnonymousPermitsPerSecond < 1 || rate.AnonymousBurst < 1))
        {
            failures.Add("Shards:Api:RateLimit needs PermitsPerSecond, Burst, AnonymousPermitsPerSecond and AnonymousBurst >= 1, and QueueLimit >= 0.");
        }

        var limits = options.Limits;
        if (limits.MaxRequestHeadersBytes < 1024 || limits.MaxRequestHeaderCount < 8 || limits.MaxRequestLineBytes < 256)
        {
            failures.Add("Shards:Api:Limits needs MaxRequestHeadersBytes >= 1024, MaxRequestHeaderCount >= 8 and MaxRequestLineBytes >= 256.");
        }

        if (limits.RequestHeadersTimeout < TimeSpan.FromSeconds(1) || limits.KeepAliveTimeout < TimeSpan.FromSeconds(1) ||
            limits.MinRequestBodyBytesPerSecond < 1 || limits.MaxConcurrentConnections < 1)
        {
            failures.Add("Shards:Api:Limits needs RequestHeadersTimeout and KeepAliveTimeout >= 1 s, MinRequestBodyBytesPerSecond >= 1 and MaxConcurrentConnections >= 1.");
        }

        if (options.ReadinessCache < TimeSpan.Zero || options.ReadinessCache > TimeSpan.FromSeconds(30))
        {
            failures.Add($"Shards:Api:ReadinessCache ({options.ReadinessCache}) must be between 0 and 30 s.");
        }

        if (options.MaxRequestBodyBytes < 1024)
        {
            failures.Add("Shards:Api:MaxRequestBodyBytes must be at least 1024.");
        }

        if (options.RetryBudget < TimeSpan.Zero || options.AttemptTimeout <= TimeSpan.Zero || options.RetryAfter < TimeSpan.FromSeconds(1))
        {
            failures.Add("Shards:Api:RetryBudget must be >= 0, AttemptTimeout > 0 and RetryAfter >= 1 s.");
        }

        failures.AddRange(ValidateIdempotency(options));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>No empty key, every scoped key with known scopes, no key given twice; a key itself is never shown.</summary>
    private static IEnumerable<string> ValidateKeys(ShardsApiOptions options)
    {
        if (options.Keys.Any(string.IsNullOrWhiteSpace))
        {
            yield return "Shards:Api:Keys holds an empty key.";
        }

        var scopeNames = ApiScopes.Describe(ApiScopes.All);
        for (var i = 0; i < options.ScopedKeys.Count; i++)
        {
            var entry = options.ScopedKeys[i];
            if (string.IsNullOrWhiteSpace(entry.Key))
            {
                yield return $"Shards:Api:ScopedKeys:{i}:Key is empty: give the key (environment Shards__Api__ScopedKeys__{i}__Key).";
            }

            var scopes = ApiScopes.Parse(entry.Scopes, out var unknown);
            if (scopes is null)
            {
                // A long name may be a key given in the wrong setting: it is not shown.
                var named = unknown!.Length <= 16 ? $"'{unknown}'" : $"of {unknown.Length} characters (is it a key?)";
                yield return $"Shards:Api:ScopedKeys:{i}:Scopes names an unknown scope {named}; the scopes are {scopeNames}.";
            }
            else if (scopes.Count == 0)
            {
                yield return $"Shards:Api:ScopedKeys:{i}:Scopes is empty: give one or more of {scopeNames}, separated by commas " +
                    "(a key with every scope goes under Shards:Api:Keys).";
            }
        }

        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var keys = options.Keys.Select((key, i) => (Key: key, Setting: $"Shards:Api:Keys:{i}"))
            .Concat(options.ScopedKeys.Select((entry, i) => (entry.Key, Setting: $"Shards:Api:ScopedKeys:{i}:Key")));
        foreach (var (key, setting) in keys.Where(k => !string.IsNullOrWhiteSpace(k.Key)))
        {
            if (!seen.TryAdd(key, setting))
            {
                yield return $"{setting} is the same key as {seen[key]}: give each key once, with all its scopes.";
            }
        }
    }

    private static IEnumerable<string> ValidateIdempotency(ShardsApiOptions options)
    {
        var idempotency = options.Idempotency;
        var execution = options.RetryBudget + options.AttemptTimeout;
        if (execution + ShardsApiOptions.KeylessDeadlineMargin > RequestIds.MaxLifetime)
        {
            yield return $"Shards:Api:RetryBudget + AttemptTimeout + {ShardsApiOptions.KeylessDeadlineMargin.TotalSeconds:0} s " +
                $"must not exceed a request's longest life ({RequestIds.MaxLifetime.TotalMinutes:0} min).";
        }

        if (idempotency.RequestLifetime > RequestIds.MaxLifetime || idempotency.RequestLifetime < execution)
        {
            yield return $"Shards:Api:Idempotency:RequestLifetime ({idempotency.RequestLifetime}) must be between " +
                $"RetryBudget + AttemptTimeout ({execution}) and a request's longest life ({RequestIds.MaxLifetime}).";
        }

        if (idempotency.Retention < idempotency.RequestLifetime)
        {
            yield return $"Shards:Api:Idempotency:Retention ({idempotency.Retention}) must be at least RequestLifetime ({idempotency.RequestLifetime}).";
        }

        if (idempotency.RequestLogRetention <= TimeSpan.Zero)
        {
            yield return "Shards:Api:Idempotency:RequestLogRetention must be positive (as Shards:Storage:RequestLog:Retention, default 1 h).";
        }

        if (idempotency.PrunePeriod <= TimeSpan.Zero || idempotency.PruneBatchSize < 1)
        {
            yield return "Shards:Api:Idempotency needs PrunePeriod > 0 and PruneBatchSize >= 1.";
        }

        if (idempotency.DatabaseTimeout < TimeSpan.FromSeconds(1))
        {
            yield return "Shards:Api:Idempotency:DatabaseTimeout must be at least 1 s.";
        }

        if (idempotency.MaxRecordsPerCommit is < 1 or > 1000 || idempotency.Committers is < 1 or > 64)
        {
            yield return $"Shards:Api:Idempotency needs MaxRecordsPerCommit 1-1000 and Committers 1-64 (got {idempotency.MaxRecordsPerCommit} and {idempotency.Committers}).";
        }
    }
}
