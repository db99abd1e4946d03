using Microsoft.Extensions.Configuration;
using Shards.Api.Options;
using Shards.Client;
using Shards.Postgres;
using Shards.Server.Options;
using YamlDotNet.RepresentationModel;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Deployment;

/// <summary>
/// deploy/kubernetes/*.yaml (no cluster runs here) read with a real YAML parser: the silo container's environment
/// binds to the options the silo reads, its ports and probes agree with them, secrets come from the example Secret,
/// the Service reaches the HTTP port, the RBAC rights are those Microsoft.Orleans.Hosting.Kubernetes needs, the silo
/// and gateway ports take mutual TLS with the mounted cluster certificate, and the NetworkPolicy admits only silo pods
/// to them.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class KubernetesManifestTests
{
    private const string ClusterTlsSecret = "shards-cluster-tls";
    private static readonly string s_folder = Path.Combine(TestRepository.Root, "deploy", "kubernetes");
    private readonly List<YamlMappingNode> _documents = Documents();

    [Fact]
    public void Manifests_declare_a_deployment_a_service_rbac_a_network_policy_an_example_secret_and_a_postgres_cluster()
    {
        Assert.Equal(
            ["Cluster", "Deployment", "NetworkPolicy", "Role", "RoleBinding", "Secret", "Service", "ServiceAccount"],
            _documents.Select(d => Scalar(d, "kind")).Order(StringComparer.Ordinal));
        Assert.All(_documents, d => Assert.False(string.IsNullOrEmpty(Scalar(d, "apiVersion"))));
    }

    [Fact]
    public void The_postgres_cluster_keeps_a_synchronous_standby_and_holds_the_shards_database()
    {
        var cluster = Kind("Cluster");
        Assert.StartsWith("postgresql.cnpg.io/", Scalar(cluster, "apiVersion"), StringComparison.Ordinal);
        Assert.True(int.Parse(Scalar(Get(cluster, "spec"), "instances")!) >= 2);
        var synchronous = Get(cluster, "spec", "postgresql", "synchronous");
        Assert.Equal("1", Scalar(synchronous, "number"));
        Assert.Equal("shards", Scalar(Get(cluster, "spec", "bootstrap", "initdb"), "database"));
        Assert.Equal("required", Scalar(Get(cluster, "spec", "affinity"), "podAntiAffinityType"));
    }

    [Fact]
    public void Silo_environment_binds_to_the_options_the_silo_reads_and_ports_and_probes_agree()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(SiloEnvironment()).Build();
        var endpoints = configuration.GetSection(SiloEndpointOptions.Section).Get<SiloEndpointOptions>()!;
        var cluster = configuration.GetSection(ShardsClusterOptions.Section).Get<ShardsClusterOptions>()!;
        var api = configuration.GetSection(ShardsApiOptions.Section).Get<ShardsApiOptions>()!;
        var telemetry = configuration.GetSection(ShardsTelemetryOptions.Section).Get<ShardsTelemetryOptions>()!;

        Assert.Equal("0.0.0.0", endpoints.ListenAddress);
        Assert.Equal("0.0.0.0", api.ListenAddress);
        Assert.Equal("from:status.podIP", endpoints.AdvertisedAddress);
        Assert.Equal("from:metadata.name", endpoints.Name);
        Assert.Equal(["secret:shards-secrets/api-key"], api.Keys);
        Assert.Equal("secret:shards-secrets/connection-string", configuration.GetConnectionString(ConnectionStringNames.Shards));
        Assert.Equal(TelemetryExporter.Prometheus, telemetry.Exporter);
        Assert.True(configuration.GetSection(ShardsKubernetesOptions.Section).Get<ShardsKubernetesOptions>()!.Enabled);
        Assert.All(["POD_NAME", "POD_NAMESPACE", "POD_IP"], variable => Assert.StartsWith("from:", SiloEnvironment()[variable], StringComparison.Ordinal));

        var container = Container();
        var ports = ((YamlSequenceNode)container["ports"]).Children.Cast<YamlMappingNode>()
            .ToDictionary(p => Scalar(p, "name")!, p => int.Parse(Scalar(p, "containerPort")!));
        Assert.Equal(endpoints.SiloPort, ports["silo"]);
        Assert.Equal(endpoints.GatewayPort, ports["gateway"]);
        Assert.Equal(api.Port, ports["http"]);
        Assert.Equal("/health/ready", Scalar(Get(container, "readinessProbe", "httpGet"), "path"));
        Assert.Equal("/health/live", Scalar(Get(container, "livenessProbe", "httpGet"), "path"));
        Assert.Equal("http", Scalar(Get(container, "readinessProbe", "httpGet"), "port"));

        var annotations = Get(Kind("Deployment"), "spec", "template", "metadata", "annotations");
        Assert.Equal(api.Port.ToString(), Scalar(annotations, "prometheus.io/port"));
        Assert.Equal(telemetry.MetricsPath, Scalar(annotations, "prometheus.io/path"));

        var labels = Get(Kind("Deployment"), "spec", "template", "metadata", "labels");
        Assert.Equal(cluster.ServiceId, Scalar(labels, "orleans/serviceId"));
        Assert.Equal(cluster.ClusterId, Scalar(labels, "orleans/clusterId"));
    }

    [Fact]
    public void Every_shards_setting_in_the_environment_names_a_real_option()
    {
        var known = new Dictionary<string, Type>(StringComparer.Ordinal)
        {
            [ShardsClusterOptions.Section] = typeof(ShardsClusterOptions),
            [SiloEndpointOptions.Section] = typeof(SiloEndpointOptions),
            [ShardsApiOptions.Section] = typeof(ShardsApiOptions),
            [ShardsTelemetryOptions.Section] = typeof(ShardsTelemetryOptions),
            [ShardsDashboardOptions.Section] = typeof(ShardsDashboardOptions),
            [ShardsTlsOptions.Section] = typeof(ShardsTlsOptions),
            [ShardsKubernetesOptions.Section] = typeof(ShardsKubernetesOptions),
        };
        var settings = SiloEnvironment().Keys.Where(k => k.StartsWith("Shards:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(settings);
        foreach (var key in settings)
        {
            var section = known.Keys.SingleOrDefault(s => key.StartsWith(s + ":", StringComparison.Ordinal));
            Assert.True(section is not null, $"{key} belongs to no options class the silo binds");
            var property = key[(section!.Length + 1)..].Split(':')[0];
            Assert.True(known[section].GetProperty(property) is not null, $"{key}: {known[section].Name} has no property {property}");
        }
    }

    [Fact]
    public void Secrets_referenced_by_the_deployment_exist_in_the_example_secret_with_placeholder_values()
    {
        var secret = Kind("Secret");
        var data = (YamlMappingNode)secret["stringData"];
        foreach (var value in SiloEnvironment().Values.Where(v => v!.StartsWith("secret:" + Scalar(Get(secret, "metadata"), "name") + "/", StringComparison.Ordinal)))
        {
            var (name, key) = (value!["secret:".Length..].Split('/')[0], value.Split('/')[1]);
            Assert.Equal(Scalar(Get(secret, "metadata"), "name"), name);
            Assert.True(data.Children.ContainsKey(key), $"the example Secret has no key {key}");
        }

        Assert.All(data.Children.Values, v => Assert.Contains("change-me", ((YamlScalarNode)v).Value, StringComparison.Ordinal));
        Assert.EndsWith(".example.yaml", Directory.GetFiles(s_folder).Single(f => File.ReadAllText(f).Contains("kind: Secret", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void Service_targets_the_silo_pods_http_port_and_rbac_grants_the_pod_rights_kubernetes_hosting_needs()
    {
        var service = Kind("Service");
        var selector = (YamlMappingNode)Get(service, "spec")["selector"];
        var podLabels = Get(Kind("Deployment"), "spec", "template", "metadata", "labels");
        Assert.All(selector.Children, pair => Assert.Equal(((YamlScalarNode)pair.Value).Value, Scalar(podLabels, ((YamlScalarNode)pair.Key).Value!)));
        var port = (YamlMappingNode)((YamlSequenceNode)Get(service, "spec")["ports"]).Children.Single();
        Assert.Equal("http", Scalar(port, "targetPort"));

        var rule = (YamlMappingNode)((YamlSequenceNode)Kind("Role")["rules"]).Children.Single();
        Assert.Equal(["pods"], ((YamlSequenceNode)rule["resources"]).Children.Select(c => ((YamlScalarNode)c).Value));
        Assert.Equal(["delete", "get", "list", "watch"], ((YamlSequenceNode)rule["verbs"]).Children.Select(c => ((YamlScalarNode)c).Value).Order(StringComparer.Ordinal));
        var account = Scalar(Get(Kind("ServiceAccount"), "metadata"), "name");
        Assert.Equal(account, Scalar(Get(Kind("Deployment"), "spec", "template", "spec"), "serviceAccountName"));
        Assert.Equal(account, Scalar((YamlMappingNode)((YamlSequenceNode)Kind("RoleBinding")["subjects"]).Children.Single(), "name"));
        Assert.Equal(Scalar(Get(Kind("Role"), "metadata"), "name"), Scalar(Get(Kind("RoleBinding"), "roleRef"), "name"));
    }

    [Fact]
    public void Silo_and_gateway_ports_take_mutual_tls_with_the_certificate_mounted_read_only_from_a_secret()
    {
        var environment = SiloEnvironment();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(environment).Build();
        var tls = configuration.GetSection(ShardsTlsOptions.Section).Get<ShardsTlsOptions>()!;

        Assert.True(tls.Enabled);
        Assert.Equal($"secret:{ClusterTlsSecret}/password", tls.CertificatePassword);
        var mount = ((YamlSequenceNode)Container()["volumeMounts"]).Children.Cast<YamlMappingNode>()
            .Single(m => tls.CertificatePath!.StartsWith(Scalar(m, "mountPath") + "/", StringComparison.Ordinal));
        Assert.Equal("true", Scalar(mount, "readOnly"));

        var volume = ((YamlSequenceNode)Get(Kind("Deployment"), "spec", "template", "spec")["volumes"]).Children.Cast<YamlMappingNode>()
            .Single(v => Scalar(v, "name") == Scalar(mount, "name"));
        var source = Get(volume, "secret");
        Assert.Equal(ClusterTlsSecret, Scalar(source, "secretName"));
        var item = (YamlMappingNode)((YamlSequenceNode)source["items"]).Children.Single();
        Assert.Equal(Path.GetFileName(tls.CertificatePath), Scalar(item, "path"));
        Assert.Equal("cluster.pfx", Scalar(item, "key"));

        // The mounted files belong to the pod's fsGroup and are group-readable only: the non-root user reads them.
        var pod = Get(Kind("Deployment"), "spec", "template", "spec", "securityContext");
        Assert.Equal(Scalar(pod, "runAsUser"), Scalar(pod, "fsGroup"));
        Assert.Equal(Convert.ToInt32("440", 8), Convert.ToInt32(Scalar(source, "defaultMode"), 8));
    }

    [Fact]
    public void No_secret_is_written_into_the_deployment()
    {
        var secretNames = SiloEnvironment().Where(pair => pair.Key.StartsWith("ConnectionStrings:", StringComparison.Ordinal) ||
            pair.Key.Contains("Password", StringComparison.OrdinalIgnoreCase) || pair.Key.Contains("Keys", StringComparison.Ordinal)).ToList();

        Assert.Equal(3, secretNames.Count);
        Assert.All(secretNames, pair => Assert.StartsWith("secret:", pair.Value, StringComparison.Ordinal));
        var deployment = File.ReadAllText(Path.Combine(s_folder, "deployment.yaml"));
        Assert.DoesNotContain("Password=", deployment, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("change-me", deployment, StringComparison.Ordinal);
    }

    [Fact]
    public void Network_policy_admits_only_silo_pods_to_the_silo_and_gateway_ports_and_anyone_to_http()
    {
        var policy = Kind("NetworkPolicy");
        var podLabels = Get(Kind("Deployment"), "spec", "template", "metadata", "labels");
        var spec = Get(policy, "spec");
        Assert.True(SelectsSiloPods(Get(spec, "podSelector"), podLabels), "the policy does not select the silo pods");
        Assert.Contains("Ingress", ((YamlSequenceNode)spec["policyTypes"]).Children.Select(c => ((YamlScalarNode)c).Value));

        var containerPorts = ((YamlSequenceNode)Container()["ports"]).Children.Cast<YamlMappingNode>()
            .ToDictionary(p => Scalar(p, "name")!, p => Scalar(p, "containerPort")!);
        var rules = ((YamlSequenceNode)spec["ingress"]).Children.Cast<YamlMappingNode>().ToList();
        Assert.NotEmpty(rules);
        foreach (var rule in rules)
        {
            // A rule without ports admits every port; a port may be given by number or by the container port's name.
            var ports = rule.Children.ContainsKey("ports")
                ? ((YamlSequenceNode)rule["ports"]).Children.Cast<YamlMappingNode>()
                    .Select(p => Scalar(p, "port")!).Select(p => containerPorts.GetValueOrDefault(p, p)).ToList()
                : [.. containerPorts.Values];
            if (!ports.Contains(containerPorts["silo"]) && !ports.Contains(containerPorts["gateway"]))
            {
                continue;
            }

            Assert.Equal([containerPorts["silo"], containerPorts["gateway"]], ports.Order(StringComparer.Ordinal));
            var peers = rule.Children.ContainsKey("from") ? ((YamlSequenceNode)rule["from"]).Children.Cast<YamlMappingNode>().ToList() : [];
            Assert.NotEmpty(peers);
            Assert.All(peers, peer =>
            {
                Assert.Equal(["podSelector"], peer.Children.Keys.Select(k => ((YamlScalarNode)k).Value));
                Assert.True(SelectsSiloPods(Get(peer, "podSelector"), podLabels), "a peer of the silo ports is not a silo pod");
            });
        }

        Assert.Contains(rules, rule => !rule.Children.ContainsKey("from") && rule.Children.ContainsKey("ports") &&
            ((YamlSequenceNode)rule["ports"]).Children.Cast<YamlMappingNode>().Select(p => Scalar(p, "port")).SequenceEqual([containerPorts["http"]]));
    }

    /// <summary>Whether a label selector (matchLabels only) is non-empty and matches every silo pod, by the service's component label too.</summary>
    private static bool SelectsSiloPods(YamlMappingNode selector, YamlMappingNode podLabels)
    {
        if (selector.Children.Keys.Any(k => ((YamlScalarNode)k).Value != "matchLabels"))
        {
            return false;
        }

        var labels = Get(selector, "matchLabels").Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value);
        return labels.ContainsKey("app.kubernetes.io/component") &&
            labels.All(pair => podLabels.Children.ContainsKey(pair.Key) && Scalar(podLabels, pair.Key) == pair.Value);
    }

    /// <summary>
    /// The silo container's environment as configuration keys (__ → :): plain values as they are, a secret as
    /// <c>secret:NAME/KEY</c>, a Downward API field as <c>from:FIELD</c>.
    /// </summary>
    private Dictionary<string, string?> SiloEnvironment() =>
        ((YamlSequenceNode)Container()["env"]).Children.Cast<YamlMappingNode>().ToDictionary(
            variable => Scalar(variable, "name")!.Replace("__", ":", StringComparison.Ordinal),
            variable => variable.Children.ContainsKey("value")
                ? Scalar(variable, "value")
                : Get(variable, "valueFrom") is var from && from.Children.ContainsKey("secretKeyRef")
                    ? $"secret:{Scalar(Get(from, "secretKeyRef"), "name")}/{Scalar(Get(from, "secretKeyRef"), "key")}"
                    : $"from:{Scalar(Get(from, "fieldRef"), "fieldPath")}");

    private YamlMappingNode Container() =>
        (YamlMappingNode)((YamlSequenceNode)Get(Kind("Deployment"), "spec", "template", "spec")["containers"]).Children.Single();

    private YamlMappingNode Kind(string kind) => _documents.Single(d => Scalar(d, "kind") == kind);

    private static YamlMappingNode Get(YamlMappingNode node, params string[] path) =>
        path.Aggregate(node, (current, key) => (YamlMappingNode)current[key]);

    private static string? Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node[key]).Value;

    private static List<YamlMappingNode> Documents()
    {
        var documents = new List<YamlMappingNode>();
        foreach (var file in Directory.GetFiles(s_folder, "*.yaml").Order(StringComparer.Ordinal))
        {
            var yaml = new YamlStream();
            using var reader = new StreamReader(file);
            yaml.Load(reader);
            documents.AddRange(yaml.Documents.Select(d => (YamlMappingNode)d.RootNode));
        }

        return documents;
    }
}
