using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans.Runtime;
using Shards.Api.Problems;
using Shards.Api.Security;
using Shards.Contracts.Carts;
using Shards.Contracts.Catalog;
using Shards.Contracts.Common;
using Shards.Domain;
using Shards.Json;

namespace Shards.Api.Endpoints;

/// <summary>The cluster itself: who is in it (the registry) and where a key lives; both need the operator scope.</summary>
internal static class ClusterRoutes
{
    /// <summary>GET /api/members, from this silo's membership snapshot (answers even while the silo is not ready).</summary>
    public static void MapMembers(RouteGroupBuilder api) =>
        api.MapGet("/members", (bool? all, IClusterMembershipService membership, ILocalSiloDetails local) =>
            {
                var snapshot = membership.CurrentSnapshot;
                var members = snapshot.Members.Values
                    .Where(m => all == true || m.Status != SiloStatus.Dead)
                    .OrderBy(m => m.Name, StringComparer.Ordinal)
                    .Select(m => new MemberDocument(
                        m.Name,
                        m.SiloAddress.Endpoint.ToString(),
                        m.SiloAddress.Generation,
                        m.SiloAddress.ToString(),
                        m.Status)
                    {
                        ServedThisRequest = m.SiloAddress.Equals(local.SiloAddress),
                    })
                    .ToList();
                return TypedResults.Ok(new MembersDocument(local.Name, snapshot.Version.Value, members));
            })
            .RequireScope(ApiScopes.Operator).WithTags("Cluster").WithName("GetMembers")
            .WithSummary("The silos of the cluster and their status (?all=true includes dead ones)")
            .Produces<MembersDocument>();

    /// <summary>GET /api/where/{kind}/{id}: the silo hosting a product or cart (activates it if needed).</summary>
    public static void MapWhere(RouteGroupBuilder api) =>
        api.MapGet("/where/{kind}/{id}", (string kind, string id, HttpContext http, IGrainFactory grains, GrainCalls calls) =>
            {
                Func<Task<GrainLocation>>? call = kind switch
                {
                    "product" => () => grains.ByKey<IProductGrain>(id).WhereAsync(),
                    "cart" => () => grains.ByKey<ICartGrain>(id).WhereAsync(),
                    _ => null,
                };
                if (call is null)
                {
                    return Task.FromResult(ApiProblems.Validation($"Unknown kind '{kind}': use product or cart (e.g. /api/where/product/sku-00001)."));
                }

                var invalid = GrainCalls.CheckId(id, kind == "product" ? Identifiers.ValidateSku : Identifiers.ValidateCartId);
                return invalid is not null ? Task.FromResult(invalid) : calls.RunAsync(http, $"Locating {kind} {id}", call, TypedResults.Ok);
            })
            .RequireScope(ApiScopes.Operator).WithTags("Cluster").WithName("Where")
            .WithSummary("Which silo hosts a product or cart, and since when")
            .Produces<GrainLocation>();
}
