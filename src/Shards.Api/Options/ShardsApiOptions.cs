namespace Shards.Api.Options;

/// <summary>
/// The HTTP API a silo co-hosts (section <c>Shards:Api</c>; environment <c>Shards__Api__...</c>). API keys are
/// secrets: give them through the environment (<c>Shards__Api__Keys__0</c>, <c>Shards__Api__ScopedKeys__0__Key</c>),
/// never in a file of the repository.
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
    /// Accepted API keys (header <c>X-Api-Key</c>) with every scope (<see cref="Security.ApiScopes"/>). With no key
    /// here nor in <see cref="ScopedKeys"/>, every request except <c>/health/*</c> is refused with 401 and a message
    /// saying how to configure keys.
    /// </summary>
    public IList<string> Keys { get; } = [];

    /// <summary>
    /// Accepted API keys with the scopes each may use (<c>Shards:Api:ScopedKeys:N:Key</c> and <c>:Scopes</c>, e.g.
    /// <c>read,write</c>); a route its key has no scope for answers 403.
    /// </summary>
    public IList<ScopedApiKeyOptions> ScopedKeys { get; } = [];

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

    /// <summary><c>Idempotency-Key</c> records (section <c>Shards:Api:Idempotency</c>).</summary>
    public ApiIdempotencyOptions Idempotency { get; set; } = new();

    /// <summary>
    /// How long one run of a readiness check that costs a round trip (PostgreSQL) answers every <c>/health/ready</c>
    /// request (default 1 s; zero: each request runs it).
    /// </summary>
    public TimeSpan ReadinessCache { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>What Kestrel accepts from a connection (section <c>Shards:Api:Limits</c>).</summary>
    public ApiConnectionLimitsOptions Limits { get; set; } = new();

    /// <summary>
    /// The deadline of a request without <c>Idempotency-Key</c>, from its arrival: every attempt of its grain call
    /// (<see cref="RetryBudget"/>, then one <see cref="AttemptTimeout"/>) plus this margin. No copy of the call is
    /// applied after it.
    /// </summary>
    public static readonly TimeSpan KeylessDeadlineMargin = TimeSpan.FromSeconds(5);

    /// <summary>The deadline of a request without <c>Idempotency-Key</c> that arrived at <paramref name="now"/>.</summary>
    public DateTimeOffset KeylessDeadline(DateTimeOffset now) => now + RetryBudget + AttemptTimeout + KeylessDeadlineMargin;
}

/// <summary>
/// An API key limited to some scopes (<c>Shards:Api:ScopedKeys:N</c>; environment <c>Shards__Api__ScopedKeys__N__Key</c>
/// and <c>Shards__Api__ScopedKeys__N__Scopes</c>).
/// </summary>
public sealed class ScopedApiKeyOptions
{
    /// <summary>The key itself, a secret (header <c>X-Api-Key</c>).</summary>
    public string Key { get; set; } = string.Empty;

    /// <summary>Its scopes, separated by commas (or spaces): <c>read</c>, <c>write</c>, <c>catalog</c>, <c>operator</c>.</summary>
    public string Scopes { get; set; } = string.Empty;
}

/// <summary>
/// <c>Idempotency-Key</c> records (section <c>Shards:Api:Idempotency</c>): table <c>shards_http_idempotency</c> in the
/// main database binds each key to the API key, method, route and body it was first used with, and keeps the final
/// answer to replay it (docs/exactly-once.md, "HTTP idempotency").
/// </summary>
public sealed class ApiIdempotencyOptions
{
    /// <summary>The connection string (under <c>ConnectionStrings</c>) of the main database, as the silo's.</summary>
    public const string ConnectionStringName = "Shards";

    /// <summary>
    /// How long a record is kept after its first use: a request re-sent with its key within this time gets the
    /// stored answer; after it, the key is forgotten (and would run as a new request). Never shorter than the
    /// request's own deadline.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// The deadline of the grain calls of a keyed request, from the record's creation (every retry of the request
    /// carries the same one). At most <c>RequestIds.MaxLifetime</c> (10 min), at least one execution
    /// (<c>RetryBudget</c> + <c>AttemptTimeout</c>).
    /// </summary>
    public TimeSpan RequestLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long after its deadline a grain can still tell whether a request was applied (the grains' request log,
    /// <c>Shards:Storage:RequestLog:Retention</c>; never set this longer). A record still unanswered whose grain says
    /// "expired" later than this is answered 409: its outcome is not known.
    /// </summary>
    public TimeSpan RequestLogRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often a silo deletes records past their retention (one silo at a time, under an advisory lock).</summary>
    public TimeSpan PrunePeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Records deleted per statement while pruning (each batch its own short transaction).</summary>
    public int PruneBatchSize { get; set; } = 1000;

    /// <summary>
    /// How long one read or write of a record may take (connecting included) before the request is answered 503
    /// with nothing run.
    /// </summary>
    public TimeSpan DatabaseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Group commit of records (on by default): the records of requests that arrive while another commit is running
    /// (their creation and their final answers) are written together, in one round trip and one transaction, so one WAL
    /// flush stores them all; each request is answered only after its record committed, as with one statement each.
    /// Off: one statement (and one transaction) per record change.
    /// </summary>
    public bool GroupCommit { get; set; } = true;

    /// <summary>At most this many record changes share one transaction.</summary>
    public int MaxRecordsPerCommit { get; set; } = 64;

    /// <summary>How many commits run at once (each on its own connection).</summary>
    public int Committers { get; set; } = 4;
}

/// <summary>
/// What Kestrel accepts from one connection (section <c>Shards:Api:Limits</c>): bounded headers, and a client that is
/// slow to send its headers or body (slowloris) is cut off instead of holding a connection and its buffers.
/// </summary>
public sealed class ApiConnectionLimitsOptions
{
    /// <summary>Largest total size of a request's headers (bytes); a larger request gets 431.</summary>
    public int MaxRequestHeadersBytes { get; set; } = 16 * 1024;

    /// <summary>Most headers in one request; more get 431.</summary>
    public int MaxRequestHeaderCount { get; set; } = 50;

    /// <summary>Longest request line (method, path and query, bytes); a longer one gets 414.</summary>
    public int MaxRequestLineBytes { get; set; } = 8 * 1024;

    /// <summary>How long a client may take to send a request's headers once it started it; then 408 and the connection is closed.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an idle keep-alive connection stays open.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Slowest body upload accepted (bytes per second, after a 5 s grace); a slower client is cut off.</summary>
    public int MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>Most connections one silo keeps open at once (HTTP/1.1 and HTTP/2); more wait in the listen queue.</summary>
    public int MaxConcurrentConnections { get; set; } = 4096;
}

/// <summary>
/// Token buckets (section <c>Shards:Api:RateLimit</c>), counted by each silo on its own: one per API key, and one per
/// client address for requests without a valid key (health probes, and requests about to be refused with 401).
/// </summary>
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

    /// <summary>Sustained requests per second from one client address without a valid API key (on one silo).</summary>
    public int AnonymousPermitsPerSecond { get; set; } = 20;

    /// <summary>Requests without a valid API key that one address may send at once above its sustained rate.</summary>
    public int AnonymousBurst { get; set; } = 40;
}
