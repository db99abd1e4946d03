using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shards.Contracts.Operations;
using Shards.Server.Options;

namespace Shards.Server.Silo;

/// <summary>
/// Runs a grain method marked <see cref="OperatorOnlyAttribute"/> only for a caller that sent the silo's operator token
/// (<see cref="ShardsOperatorOptions"/>, compared in constant time); any other caller gets
/// <see cref="UnauthorizedAccessException"/> and nothing is done. Other methods pass untouched.
/// </summary>
internal sealed partial class OperatorCallFilter(IOptions<ShardsOperatorOptions> options, ILogger<OperatorCallFilter> logger) : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, bool> s_operatorOnly = new();

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod is { } method && s_operatorOnly.GetOrAdd(method, m => m.GetCustomAttribute<OperatorOnlyAttribute>() is not null) &&
            !IsOperator(RequestContext.Get(OperatorCalls.TokenKey) as string))
        {
            LogRefused(logger, method.DeclaringType?.Name ?? "?", method.Name);
            throw new UnauthorizedAccessException(
                $"{method.Name} is for operators only: the call must carry the silo's operator token (Shards:Operator:Token). " +
                "shards cluster up gives one to its silos and uses it itself.");
        }

        return context.Invoke();
    }

    private bool IsOperator(string? presented)
    {
        if (options.Value.Token is not { Length: > 0 } token || presented is null)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Refused {Interface}.{Method}: the caller sent no valid operator token")]
    private static partial void LogRefused(ILogger logger, string @interface, string method);
}
