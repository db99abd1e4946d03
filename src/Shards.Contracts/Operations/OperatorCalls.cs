namespace Shards.Contracts.Operations;

/// <summary>
/// Marks a grain method only an operator may call (e.g. declaring a silo dead): the silo runs it only when the call
/// carries the operator token the silo was configured with (<c>Shards:Operator:Token</c>), in the Orleans request
/// context under <see cref="OperatorCalls.TokenKey"/>. A silo configured with no token runs none of them. A client that
/// merely reaches a gateway (and, with TLS, holds the cluster certificate) therefore still cannot declare silos dead.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class OperatorOnlyAttribute : Attribute;

/// <summary>How a caller proves it is an operator.</summary>
public static class OperatorCalls
{
    /// <summary>The Orleans request-context key of the operator token.</summary>
    public const string TokenKey = "shards-operator-token";
}
