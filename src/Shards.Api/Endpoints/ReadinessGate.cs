using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Shards.Api.Health;
using Shards.Api.Options;
using Shards.Api.Problems;

namespace Shards.Api.Endpoints;

/// <summary>
/// Answers 503 with <c>Retry-After</c>, before any grain call, while this silo is not Active in the cluster (still
/// joining, or stopping). Nothing was attempted, so a load balancer may safely send the request elsewhere.
/// </summary>
internal sealed class ReadinessGate(SiloReadiness readiness, IOptions<ShardsApiOptions> options) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        readiness.IsActive
            ? next(context)
            : ValueTask.FromResult<object?>(ApiProblems.Unavailable(readiness.DescribeNotReady(), options.Value.RetryAfter));
}
