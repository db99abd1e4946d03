namespace Shards.Server.Options;

/// <summary>
/// Microsoft.Orleans.Hosting.Kubernetes for a silo running in a Kubernetes pod (section <c>Shards:Kubernetes</c>).
/// Off by default: its agent needs the in-cluster API server (service-account token, <c>KUBERNETES_SERVICE_HOST</c>)
/// and the pod's <c>POD_NAME</c>, <c>POD_NAMESPACE</c> and <c>POD_IP</c>; deploy/kubernetes/deployment.yaml turns it on.
/// With it, silos watch the cluster's pods and declare a silo dead as soon as its pod is deleted (rights: rbac.yaml).
/// </summary>
public sealed class ShardsKubernetesOptions
{
    public const string Section = "Shards:Kubernetes";

    public bool Enabled { get; set; }
}
