using Microsoft.Extensions.Options;

namespace Shards.Postgres;

/// <summary>
/// Checking a settings section outside the options pipeline (while a host is being built, or in a CLI command) with the
/// very validator class that <c>ValidateOnStart</c> uses, so a bad setting is reported the same way everywhere.
/// </summary>
public static class ValidateOptionsExtensions
{
    /// <summary>
    /// <paramref name="options"/> itself when <paramref name="validator"/> accepts it; otherwise throws
    /// <see cref="OptionsValidationException"/> naming every bad setting.
    /// </summary>
    public static TOptions ThrowIfInvalid<TOptions>(this IValidateOptions<TOptions> validator, TOptions options)
        where TOptions : class
    {
        var result = validator.Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(TOptions), result.Failures);
        }

        return options;
    }
}
