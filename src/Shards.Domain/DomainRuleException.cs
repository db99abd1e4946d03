namespace Shards.Domain;

/// <summary>What kind of rule a rejected request broke.</summary>
public enum DomainRuleKind
{
    /// <summary>The input itself is invalid (bad ID, negative quantity, name too long...).</summary>
    Validation = 1,

    /// <summary>The thing the request refers to does not exist.</summary>
    NotFound = 2,

    /// <summary>The input is valid, but the current state does not allow it (not enough stock, cart full...).</summary>
    Conflict = 3,
}

/// <summary>
/// A request broke a domain rule. The message tells a person what to change; the entity the rule
/// protects is left as it was.
/// </summary>
public sealed class DomainRuleException : Exception
{
    public DomainRuleException(DomainRuleKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public DomainRuleException(DomainRuleKind kind, string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public DomainRuleException()
        : this(DomainRuleKind.Validation, "A domain rule was broken.")
    {
    }

    public DomainRuleException(string message)
        : this(DomainRuleKind.Validation, message)
    {
    }

    public DomainRuleException(string message, Exception innerException)
        : this(DomainRuleKind.Validation, message, innerException)
    {
    }

    public DomainRuleKind Kind { get; }

    internal static DomainRuleException Validation(string message) => new(DomainRuleKind.Validation, message);

    internal static DomainRuleException NotFound(string message) => new(DomainRuleKind.NotFound, message);

    internal static DomainRuleException Conflict(string message) => new(DomainRuleKind.Conflict, message);
}
