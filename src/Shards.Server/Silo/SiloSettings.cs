using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Shards.Postgres;

namespace Shards.Server.Silo;

/// <summary>
/// Settings a silo needs while it is being built (ports, cluster identity, storage, telemetry): bound once from
/// configuration, checked by the options' validator class (the same one <c>ValidateOnStart</c> uses elsewhere), and
/// registered so that services reading <see cref="IOptions{TOptions}"/> get that very instance.
/// </summary>
internal static class SiloSettings
{
    /// <summary>The bound, valid section; throws <see cref="OptionsValidationException"/> naming every bad setting.</summary>
    public static TOptions Bind<TOptions>(IHostApplicationBuilder builder, string section, IValidateOptions<TOptions> validator)
        where TOptions : class, new()
    {
        var value = validator.ThrowIfInvalid(builder.Configuration.GetSection(section).Get<TOptions>() ?? new TOptions());

        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(value));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton(validator));
        return value;
    }
}
