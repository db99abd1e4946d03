namespace Shards.Grains.Common;

/// <summary>
/// The names of the grains' persistent states. A state name is part of the stored record's identity: Orleans'
/// ADO.NET storage keys a row by service, state name and grain key, not by grain class or storage name. Every
/// grain type has its own, so product X and cart X never share a row. Never rename one: stored state would be orphaned.
/// </summary>
public static class StateNames
{
    public const string Product = "product";
    public const string Cart = "cart";
    public const string Order = "order";
    public const string Payment = "payment";
}
