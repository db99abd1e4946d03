namespace Shards.History;

/// <summary>A recorded history: its operations (by index) and the keys declared with their initial values.</summary>
public sealed class History(IReadOnlyList<Operation> operations, IReadOnlyList<KeyDeclaration> keys)
{
    public IReadOnlyList<Operation> Operations { get; } = operations;

    public IReadOnlyList<KeyDeclaration> Keys { get; } = keys;

    /// <summary>
    /// Every key with an operation or a declaration, with its operations. An undeclared key is a counter when it has
    /// an add (starting at 0), else a register (starting with nothing).
    /// </summary>
    public IEnumerable<(KeyDeclaration Key, IReadOnlyList<Operation> Operations)> ByKey()
    {
        var declared = Keys.ToDictionary(k => k.Key, StringComparer.Ordinal);
        var byKey = Operations.GroupBy(o => o.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (IReadOnlyList<Operation>)g.ToList(), StringComparer.Ordinal);
        foreach (var (key, operations) in byKey)
        {
            yield return (declared.GetValueOrDefault(key) ?? Infer(key, operations), operations);
        }

        foreach (var declaration in Keys.Where(k => !byKey.ContainsKey(k.Key)))
        {
            yield return (declaration, []);
        }
    }

    private static KeyDeclaration Infer(string key, IReadOnlyList<Operation> operations) =>
        operations.Any(o => o.Kind == OperationKind.Add)
            ? new KeyDeclaration(key, KeyModel.Counter, 0)
            : new KeyDeclaration(key, KeyModel.Register, null);
}
