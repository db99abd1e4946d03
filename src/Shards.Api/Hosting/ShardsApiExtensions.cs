using System.Net;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Runtime;
using Shards.Api.Endpoints;
using Shards.Api.Health;
using Shards.Api.Idempotency;
using Shards.Api.Options;
using Shards.Api.Problems;
using Shards.Api.Security;
using Shards.Api.Telemetry;
using Shards.Contracts.Catalog;
using Shards.Json;

namespace Shards.Api.Hosting;

/// <summary>
/// The HTTP API a silo co-hosts: <c>builder.AddShardsApi()</c> registers it, <c>app.MapShardsApi()</c> builds its
/// pipeline and routes. It calls grains through the silo's own <see cref="IGrainFactory"/>: no client needed.
/// </summary>
public static class ShardsApiExtensions
{
    /// <summary>Options, Kestrel on Shards:Api:ListenAddress:Port only, API keys, rate limits, problem details, health, OpenAPI.</summary>
    public static WebApplicationBuilder AddShardsApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<IValidateOptions<ShardsApiOptions>, ShardsApiOptionsValidator>();
        services.AddOptions<ShardsApiOptions>().BindConfiguration(ShardsApiOptions.Section).ValidateOnStart();
        if (builder.Configuration.GetSection(ShardsApiOptions.Section).GetValue(nameof(ShardsApiOptions.Enabled), true))
        {
            services.AddOptions<KestrelServerOptions>().Configure<IOptions<ShardsApiOptions>>((kestrel, api) =>
            {
                kestrel.Listen(IPAddress.Parse(api.Value.ListenAddress), api.Value.Port);
                kestrel.Limits.MaxRequestBodySize = api.Value.MaxRequestBodyBytes;
                ApplyConnectionLimits(kestrel.Limits, api.Value.Limits);
                kestrel.AddServerHeader = false;
            });
        }
        else
        {
            services.AddSingleton<IServer, NoHttpServer>();
        }

        services.AddSingleton<SiloReadiness>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<GrainCalls>();
        services.AddSingleton(provider =>
        {
            var grains = provider.GetRequiredService<IGrainFactory>();
            return new ProductReads(grains.ByKey<IProductGrain>, provider.GetRequiredService<ILocalSiloDetails>().SiloAddress, provider.GetService<ProductReplicas>());
        });
        services.AddSingleton<RequestIdentity>();
        services.AddSingleton<ReadinessGate>();
        services.AddSingleton<IdempotentRequests>();
        AddIdempotency(services);
        services.AddSingleton<ApiMetrics>();
        services.AddSingleton(provider => ApiKeys.From(provider.GetRequiredService<IOptions<ShardsApiOptions>>().Value));

        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            var http = context.HttpContext;
            ApiProblems.Complete(context.ProblemDetails, http);
            context.ProblemDetails.Extensions["silo"] = http.RequestServices.GetRequiredService<ILocalSiloDetails>().Name;
            context.ProblemDetails.Extensions["traceId"] = http.TraceIdentifier;
        });
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o => ConfigureJson(o));

        // Authentication core only: AddAuthentication() would also start ASP.NET data protection, which writes a key
        // ring to the home folder and is of no use to an API-key scheme.
        services.AddAuthenticationCore(o =>
        {
            o.AddScheme<ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, displayName: null);
            o.AddScheme<OperatorKeyAuthenticationHandler>(OperatorKeyAuthenticationHandler.SchemeName, displayName: null);
            o.DefaultScheme = ApiKeyAuthenticationHandler.SchemeName;
        });
        // Registered, so that each request's handler comes from the container's compiled factory rather than
        // ActivatorUtilities' constructor matching (what AddAuthentication().AddScheme does too).
        services.TryAddTransient<ApiKeyAuthenticationHandler>();
        services.TryAddTransient<OperatorKeyAuthenticationHandler>();
        services.AddOptions<AuthenticationSchemeOptions>(ApiKeyAuthenticationHandler.SchemeName);
        services.AddOptions<AuthenticationSchemeOptions>(OperatorKeyAuthenticationHandler.SchemeName);
        services.AddWebEncoders();
        builder.Logging.AddFilter(typeof(ApiKeyAuthenticationHandler).FullName, LogLevel.Warning); // "was challenged" on every 401
        builder.Logging.AddFilter(typeof(OperatorKeyAuthenticationHandler).FullName, LogLevel.Warning);
        // Every route names its scope (RequireScope); what names none (the OpenAPI document) needs any valid key. These
        // policies name no scheme: the caller is the one the authentication middleware found with the default scheme
        // (ApiKey), and its 401 is that scheme's challenge. A policy naming it would authenticate every request twice.
        var authorization = services.AddAuthorizationBuilder().SetFallbackPolicy(
            new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(OperatorAccess.PolicyName, OperatorAccess.Policy);
        foreach (var scope in ApiScopes.All)
        {
            authorization.AddPolicy(ApiScopes.PolicyName(scope), ScopeAccess.Policy(scope));
        }

        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ScopeForbiddenHandler>();
        services.AddRateLimiter(ConfigureRateLimits);

        services.AddHealthChecks().AddCheck<SiloActiveHealthCheck>("silo", tags: [ApiHealth.ReadyTag]);
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Shards HTTP API";
            document.Info.Description =
                "Products, carts and orders of a sharded Orleans store. Every route under /api needs the X-Api-Key header with " +
                "the route's scope (read, write, catalog or operator; a key without it gets 403); an order shows only the last " +
                "characters of its payment token (paymentTokenHint); " +
                "errors are RFC 9457 problem details (type, title, status, detail, instance and a code to switch on). A write may carry an Idempotency-Key (1-255 printable ASCII characters, e.g. " +
                "a UUID): it is applied once, the same request again gets the stored answer (Idempotent-Replayed: true) for 24 h, " +
                "and the key sent with another method, route, body or API key's request gets 422.";
            return Task.CompletedTask;
        }));
        return builder;
    }

    /// <summary>
    /// The pipeline (silo header, problem details, body limit, API keys, rate limits) and every route: /health/live,
    /// /health/ready, /openapi/v1.json and /api/*.
    /// </summary>
    public static WebApplication MapShardsApi(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ShardsApiOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ShardsApiExtensions));
        if (options.Enabled)
        {
            ApiLog.Listening(logger, options.ListenAddress, options.Port, options.Keys.Count + options.ScopedKeys.Count);
        }

        if (options.Keys.Count + options.ScopedKeys.Count == 0)
        {
            ApiLog.NoKeys(logger);
        }

        app.UseSiloHeader();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRequestBodyLimit();
        app.UseRouting();
        app.UseApiMetrics();
        app.UseAuthentication();
        if (options.RateLimit.Enabled)
        {
            // Before authorization: requests about to get 401 are limited per address too. With limits off there is
            // no limiter at all, rather than one that hands every request a no-op lease under its partition lock.
            app.UseRateLimiter();
        }

        app.UseAuthorization();
        app.UseJsonBodyCheck();
        app.UseRequestBodyFingerprint();

        app.MapHealthChecks("/health/live", ApiHealth.Live()).AllowAnonymous().WithMetadata(LimitedByAddress.Instance);
        app.MapHealthChecks("/health/ready", ApiHealth.Ready()).AllowAnonymous().WithMetadata(LimitedByAddress.Instance);
        app.MapOpenApi();

        var api = app.MapGroup("/api").AddSingletonFilter<RequestIdentity>().ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        ClusterRoutes.MapMembers(api);

        // Routes that call grains answer 503 while this silo is not Active in the cluster.
        // Writes with an Idempotency-Key then go through their record (bound to key, method, route and body; replayed).
        var services = api.MapGroup(string.Empty).AddSingletonFilter<ReadinessGate>().AddSingletonFilter<IdempotentRequests>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        ProductRoutes.Map(services);
        CartRoutes.Map(services);
        ClusterRoutes.MapWhere(services);
        OrderRoutes.Map(services);
        ListingRoutes.Map(services);
        return app;
    }

    /// <summary>
    /// Adds endpoint filter <typeparamref name="T"/> (registered as a singleton), taken from the container once per
    /// endpoint on its first request. <c>AddEndpointFilter&lt;T&gt;()</c> would build a new one for every request.
    /// </summary>
    private static RouteGroupBuilder AddSingletonFilter<T>(this RouteGroupBuilder group)
        where T : class, IEndpointFilter =>
        group.AddEndpointFilterFactory((_, next) =>
        {
            T? filter = null;
            return invocation => (filter ??= invocation.HttpContext.RequestServices.GetRequiredService<T>()).InvokeAsync(invocation, next);
        });

    /// <summary>Bounded headers and request line; slow senders of headers or body cut off; idle connections closed.</summary>
    private static void ApplyConnectionLimits(KestrelServerLimits kestrel, ApiConnectionLimitsOptions limits)
    {
        kestrel.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersBytes;
        kestrel.MaxRequestHeaderCount = limits.MaxRequestHeaderCount;
        kestrel.MaxRequestLineSize = limits.MaxRequestLineBytes;
        kestrel.RequestHeadersTimeout = limits.RequestHeadersTimeout;
        kestrel.KeepAliveTimeout = limits.KeepAliveTimeout;
        kestrel.MinRequestBodyDataRate = new MinDataRate(limits.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(5));
        kestrel.MaxConcurrentConnections = limits.MaxConcurrentConnections;
        kestrel.MaxConcurrentUpgradedConnections = limits.MaxConcurrentConnections;
    }

    /// <summary>
    /// The <c>Idempotency-Key</c> records: their store on the host's <see cref="NpgsqlDataSource"/> for the main database
    /// (the silo registers it with its other data sources, one per database) and the pruner. A host that registers none
    /// is told so when the store is first needed.
    /// </summary>
    private static void AddIdempotency(IServiceCollection services)
    {
        services.TryAddSingleton<NpgsqlDataSource>(_ => throw new InvalidOperationException(
            "The HTTP API keeps Idempotency-Key records in the main database, but the host registered no NpgsqlDataSource for it: " +
            $"register the main database's (AddShardsSilo does, from ConnectionStrings__{ApiIdempotencyOptions.ConnectionStringName})."));
        services.AddSingleton<IdempotencyStore>();
        services.AddHostedService<IdempotencyPruner>();
    }

    /// <summary>
    /// Shards' JSON (<see cref="ShardsJson"/>: camelCase names, camelCase enum strings, as the CLI's <c>--json</c>); a body
    /// must carry every field once, no unknown field, no null for a required value.
    /// </summary>
    private static void ConfigureJson(JsonOptions options)
    {
        var json = options.SerializerOptions;
        ShardsJson.Configure(json);
        json.RespectRequiredConstructorParameters = true;
        json.RespectNullableAnnotations = true;
        json.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        json.NumberHandling = JsonNumberHandling.Strict;
        json.AllowDuplicateProperties = false; // {"stock":1,"stock":9} is ambiguous: refused, never "last one wins"
    }

    /// <summary>
    /// A token bucket per API key (per silo), and one per client address for the health endpoints and for every request
    /// without a valid key (so probing for keys is slowed down too); over it: 429 with Retry-After and problem details.
    /// </summary>
    private static void ConfigureRateLimits(RateLimiterOptions limiter)
    {
        limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
        {
            var rate = context.RequestServices.GetRequiredService<IOptions<ShardsApiOptions>>().Value.RateLimit;
            if (!rate.Enabled)
            {
                return RateLimitPartition.GetNoLimiter(string.Empty);
            }

            if (AnonymousCaller(context) is { } address)
            {
                return RateLimitPartition.GetTokenBucketLimiter("address " + address, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = rate.AnonymousBurst,
                    TokensPerPeriod = rate.AnonymousPermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            }

            return RateLimitPartition.GetTokenBucketLimiter("key " + context.User.Identity!.Name, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = rate.Burst,
                TokensPerPeriod = rate.PermitsPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = rate.QueueLimit,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = true,
            });
        });
        limiter.OnRejected = (context, _) =>
        {
            var http = context.HttpContext;
            var rate = http.RequestServices.GetRequiredService<IOptions<ShardsApiOptions>>().Value.RateLimit;
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
            var silo = http.RequestServices.GetRequiredService<ILocalSiloDetails>().Name;
            var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ShardsApiExtensions));
            string detail;
            if (AnonymousCaller(http) is { } address)
            {
                ApiLog.RateLimited(logger, "address " + address, http.Request.Path);
                detail = $"This address ({address}) sent more than {rate.AnonymousPermitsPerSecond} requests per second without a valid API key " +
                    $"(burst {rate.AnonymousBurst}) to silo {silo}. Slow down and retry after the Retry-After delay.";
            }
            else
            {
                var key = http.User.Identity!.Name;
                ApiLog.RateLimited(logger, key!, http.Request.Path);
                detail = $"This API key ({key}) sent more than {rate.PermitsPerSecond} requests per second (burst {rate.Burst}) to silo " +
                    $"{silo}. Slow down and retry after the Retry-After delay.";
            }

            return new ValueTask(ApiProblems.WriteAsync(http, StatusCodes.Status429TooManyRequests, "Too many requests", detail, ApiErrorCodes.RateLimited, retryAfter));
        };
    }

    /// <summary>
    /// The client address a request is limited by: for the health endpoints always, elsewhere when it has no valid API key;
    /// null when its key's bucket applies. A request whose address is unknown (an in-process test server) counts as one address.
    /// </summary>
    private static string? AnonymousCaller(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<LimitedByAddress>() is not null || context.User.Identity is not { IsAuthenticated: true, Name: not null }
            ? context.Connection.RemoteIpAddress?.ToString() ?? "(unknown)"
            : null;

    /// <summary>Marks an endpoint (health) whose callers are limited by address whether or not they send a key.</summary>
    private sealed class LimitedByAddress
    {
        public static readonly LimitedByAddress Instance = new();
    }
}
