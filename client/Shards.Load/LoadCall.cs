namespace Shards.Load;

/// <summary>
/// One call of a client: on a product (<see cref="Product"/> 1-based, 0 for none), else on cart <see cref="Cart"/>:
/// an add to its line <see cref="Slot"/>, or a read (<see cref="Slot"/> -1).
/// </summary>
internal readonly record struct LoadCall(int Cart, int Slot, int Product, bool Write);
