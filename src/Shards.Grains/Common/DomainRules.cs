using Shards.Contracts.Common;
using Shards.Domain;

namespace Shards.Grains.Common;

/// <summary>Runs domain rules and turns a broken rule into the <see cref="ShardsException"/> callers understand.</summary>
internal static class DomainRules
{
    public static T Check<T>(Func<T> rule)
    {
        try
        {
            return rule();
        }
        catch (DomainRuleException exception)
        {
            throw ToShardsException(exception);
        }
    }

    public static void Check(Action rule) => Check(() =>
    {
        rule();
        return true;
    });

    public static ShardsException ToShardsException(DomainRuleException exception) =>
        new(ToErrorCode(exception.Kind), exception.Message);

    public static ShardsErrorCode ToErrorCode(DomainRuleKind kind) => kind switch
    {
        DomainRuleKind.Validation => ShardsErrorCode.Validation,
        DomainRuleKind.NotFound => ShardsErrorCode.NotFound,
        DomainRuleKind.Conflict => ShardsErrorCode.Conflict,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown domain rule kind."),
    };
}
