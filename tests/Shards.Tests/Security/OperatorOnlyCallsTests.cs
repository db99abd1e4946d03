using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Shards.Contracts.Operations;
using Shards.Tests.Api;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Security;

/// <summary>
/// Declaring a silo dead is for operators only: a caller that reaches the cluster without the silo's operator token
/// (Shards:Operator:Token) is refused and nothing is declared; with the token the call runs; a silo with no token runs it
/// for nobody.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Integration)]
public sealed class OperatorOnlyCallsTests
{
    private static readonly string s_token = new('t', 40);
    private static readonly SiloAddress s_unknownSilo = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 1), 1);

    [Fact(Timeout = 120_000)]
    public async Task Declaring_a_silo_dead_needs_the_operator_token()
    {
        await using var silo = ApiSilo.Start(await TestPostgres.CreateDatabaseAsync("operator"), $"Shards:Operator:Token={s_token}");
        await silo.Started;
        var admin = silo.App.Services.GetRequiredService<IGrainFactory>().GetGrain<IClusterAdminGrain>(0);

        var anonymous = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => admin.DeclareDeadAsync(s_unknownSilo));
        var wrong = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => WithTokenAsync(new string('x', 40), () => admin.DeclareDeadAsync(s_unknownSilo)));
        await WithTokenAsync(s_token, () => admin.DeclareDeadAsync(s_unknownSilo)); // runs (and returns) with the token

        Assert.Contains("operators only", anonymous.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(s_token, wrong.Message, StringComparison.Ordinal);
        Assert.Equal(silo.App.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress, await admin.AnswerAsync());
    }

    [Fact(Timeout = 120_000)]
    public async Task A_silo_without_an_operator_token_lets_nobody_declare_silos_dead()
    {
        await using var silo = ApiSilo.Start(await TestPostgres.CreateDatabaseAsync("nooperator"));
        await silo.Started;
        var admin = silo.App.Services.GetRequiredService<IGrainFactory>().GetGrain<IClusterAdminGrain>(0);

        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => WithTokenAsync(s_token, () => admin.DeclareDeadAsync(s_unknownSilo)));
    }

    private static async Task<T> WithTokenAsync<T>(string token, Func<Task<T>> call)
    {
        RequestContext.Set(OperatorCalls.TokenKey, token);
        try
        {
            return await call();
        }
        finally
        {
            RequestContext.Remove(OperatorCalls.TokenKey);
        }
    }
}
