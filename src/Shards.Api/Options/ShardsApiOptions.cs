namespace Shards.Api.Options;

/// <summary>
/// The HTTP API a silo co-hosts (section <c>Shards:Api</c>; environment <c>Shards__Api__...</c>). API keys are
/// secrets: give them through the environment (<c>Shards__Api__Keys__0</c>), never in a file of the repository.
/// </summary>
public sealed class ShardsApiOptions
{
    public const string Section = "Shards:Api";

    /// <summary>False: the silo serves no HTTP at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Address the HTTP server binds: loopback by default, so only this machine (and its nginx) reaches it.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>HTTP port; each silo on a machine needs its own (the launcher picks free ones).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>
    /// Accepted API keys (header <c>X-Api-Key</c>). Empty: every request except <c>/health/*</c> is refused with 401
    /// and a message saying how to configure keys.
    /// </summary>
    public IList<string> Keys { get; } = [];

    public ApiRateLimitOptions RateLimit { get; set; } = new();

    /// <summary>Largest request body accepted; a larger one gets 413 before it is read.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// How long a request keeps retrying a grain call that failed because the cluster moved under it (a silo died or
    /// is stopping), under the same request ID, before it answers 503.
    /// </summary>
    public TimeSpan RetryBudget { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one attempt of a grain call may take before it is sent again (same request ID, so applied once).
    /// A call in flight to a silo that dies may get no answer for the silo's 30 s response timeout.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The <c>Retry-After</c> a 503 carries (whole seconds).</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>Per-API-key token bucket (section <c>Shards:Api:RateLimit</c>), counted by each silo on its own.</summary>
public sealed class ApiRateLimitOptions
{
    /// <summary>False: no rate limit.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Sustained requests per second per key (on one silo).</summary>
    public int PermitsPerSecond { get; set; } = 200;

    /// <summary>Requests a key may send at once above the sustained rate (the bucket's size).</summary>
    public int Burst { get; set; } = 400;

    /// <summary>Requests over the limit that wait for a permit instead of getting 429 at once.</summary>
    public int QueueLimit { get; set; }
}
