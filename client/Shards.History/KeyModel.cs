namespace Shards.History;

/// <summary>How a key's history is checked.</summary>
public enum KeyModel
{
    /// <summary>A register: writes replace its value; every value written is unique.</summary>
    Register,

    /// <summary>A counter: adds of positive amounts; reads return the total.</summary>
    Counter,
}

/// <summary>A key, how it is checked, and its value before the first operation of the history.</summary>
/// <param name="Initial">The register's value (null: nothing) or the counter's quantity before the run.</param>
public sealed record KeyDeclaration(string Key, KeyModel Model, long? Initial);
