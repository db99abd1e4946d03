using Microsoft.Extensions.DependencyInjection;
using Orleans.Providers;
using Orleans.Runtime;
using Orleans.Serialization.Configuration;
using Shards.Contracts.Operations;

namespace Shards.Client;

/// <summary>
/// Counts the calls to Shards' grains that this silo serves, and the failed ones, since it started (the silo's grain
/// call filter feeds it). Readable from a client as an Orleans controllable: the management grain's
/// <c>SendControlCommandToProvider</c> runs <see cref="ReadCommand"/> on every active silo and returns each silo's
/// <see cref="SiloCallCounts"/> (<see cref="ReadAsync"/>). The silo registers it under <see cref="ProviderName"/>.
/// </summary>
public sealed class GrainCallCounters(ILocalSiloDetails local) : IControllable
{
    /// <summary>The key it is registered under as an <see cref="IControllable"/> in a silo.</summary>
    public const string ProviderName = "shards.grain-calls";

    /// <summary>The one command: answer this silo's <see cref="SiloCallCounts"/>.</summary>
    public const int ReadCommand = 1;

    private long _calls;
    private long _errors;

    public void Record(bool failed)
    {
        Interlocked.Increment(ref _calls);
        if (failed)
        {
            Interlocked.Increment(ref _errors);
        }
    }

    public SiloCallCounts Read() => new(local.SiloAddress, Interlocked.Read(ref _calls), Interlocked.Read(ref _errors));

    public Task<object?> ExecuteCommand(int command, object? arg) =>
        command == ReadCommand
            ? Task.FromResult<object?>(Read())
            : throw new ArgumentOutOfRangeException(nameof(command), command, $"{nameof(GrainCallCounters)} knows only command {ReadCommand} (read).");

    /// <summary>The counts of every active silo, through Orleans' management grain.</summary>
    public static async Task<IReadOnlyList<SiloCallCounts>> ReadAsync(IGrainFactory grains)
    {
        var answers = await grains.GetGrain<IManagementGrain>(0).SendControlCommandToProvider<GrainCallCounters>(ProviderName, ReadCommand);
        return answers.OfType<SiloCallCounts>().ToList();
    }
}

/// <summary>Registration of <see cref="GrainCallCounters"/> on both sides of the wire.</summary>
public static class GrainCallCountersServiceCollectionExtensions
{
    /// <summary>
    /// Lets <see cref="GrainCallCounters"/> travel as the type argument of the management grain's generic
    /// <c>SendControlCommandToProvider</c> (Orleans refuses a type on the wire that it was not told about): the client
    /// that asks and the silos that answer both call this.
    /// </summary>
    public static IServiceCollection AllowGrainCallCountersOnTheWire(this IServiceCollection services) =>
        services.Configure<TypeManifestOptions>(o => o.AddAllowedType(typeof(GrainCallCounters)));
}
