namespace Shards.LocalCluster;

/// <summary>A local secret file (such as <c>.shards/api-key</c>) that users other than its owner may read or change.</summary>
public sealed class UnsafeSecretFileException(string path, string message) : Exception(message)
{
    public string Path { get; } = path;
}
