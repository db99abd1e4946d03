using Microsoft.Extensions.Configuration;
using Shards.Api.Options;
using Shards.Client;
using Shards.Postgres;
using Shards.Server.Options;
using YamlDotNet.RepresentationModel;
using Shards.Tests.Infrastructure;

namespace Shards.Tests.Deployment;

/// <summary>
/// docker-compose.yml (no engine runs here) read with a real YAML parser: the silos' environment binds to the
/// options the hosts read, their ports agree with the image and nginx, nothing pins a host port on a silo, and the
/// silo and gateway ports take mutual TLS with the cluster certificate from the git-ignored deploy/tls/.
/// </summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ComposeFileTests
{
    private static readonly string s_root = TestRepository.Root;
    private readonly YamlMappingNode _services = Services();

    [Fact]
    public void Compose_declares_postgres_silos_and_nginx_with_health_checks_and_restarts()
    {
        Assert.Equal(["nginx", "postgres", "silo"], _services.Children.Keys.Select(k => ((YamlScalarNode)k).Value).Order());
        Assert.All(["postgres", "silo"], name => Assert.True(Service(name).Children.ContainsKey("healthcheck"), $"{name} has no health check"));
        Assert.All(["postgres", "silo", "nginx"], name => Assert.Equal("unless-stopped", Scalar(Service(name), "restart")));
        Assert.Equal("service_healthy", Scalar((YamlMappingNode)((YamlMappingNode)Service("silo")["depends_on"])["postgres"], "condition"));
    }

    [Fact]
    public void Silos_publish_no_host_port_so_they_can_be_scaled()
    {
        Assert.False(Service("silo").Children.ContainsKey("ports"), "a fixed host port would break `--scale silo=N`");
        Assert.Equal("3", Scalar(Service("silo"), "scale"));
        var nginxPorts = ((YamlSequenceNode)Service("nginx")["ports"]).Children.Select(p => ((YamlScalarNode)p).Value).ToList();
        Assert.All(nginxPorts, p => Assert.StartsWith("127.0.0.1:", p, StringComparison.Ordinal));
    }

    [Fact]
    public void Silo_environment_binds_to_the_options_the_silo_reads_and_ports_agree_with_image_and_nginx()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(SiloEnvironment()).Build();
        var endpoints = configuration.GetSection(SiloEndpointOptions.Section).Get<SiloEndpointOptions>()!;
        var cluster = configuration.GetSection(ShardsClusterOptions.Section).Get<ShardsClusterOptions>()!;
        var api = configuration.GetSection(ShardsApiOptions.Section).Get<ShardsApiOptions>()!;

        Assert.Equal("0.0.0.0", endpoints.ListenAddress);
        Assert.Equal("0.0.0.0", api.ListenAddress);
        Assert.Equal("shards", cluster.ClusterId);
        Assert.Single(api.Keys);
        Assert.Contains("Host=postgres;", configuration.GetConnectionString(ConnectionStringNames.Shards), StringComparison.Ordinal);

        var exposed = ((YamlSequenceNode)Service("silo")["expose"]).Children.Select(p => int.Parse(((YamlScalarNode)p).Value!)).Order().ToList();
        Assert.Equal(new[] { endpoints.SiloPort, endpoints.GatewayPort, api.Port }.Order(), exposed);
        var dockerfile = File.ReadAllText(Path.Combine(s_root, "Dockerfile"));
        Assert.Contains($"EXPOSE {endpoints.SiloPort} {endpoints.GatewayPort} {api.Port}", dockerfile, StringComparison.Ordinal);
        var nginx = File.ReadAllText(Path.Combine(s_root, "deploy", "nginx.compose.conf"));
        Assert.Contains($"server silo:{api.Port} resolve", nginx, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_shards_setting_in_the_environment_names_a_real_option()
    {
        var known = new Dictionary<string, Type>(StringComparer.Ordinal)
        {
            [ShardsClusterOptions.Section] = typeof(ShardsClusterOptions),
            [SiloEndpointOptions.Section] = typeof(SiloEndpointOptions),
            [ShardsApiOptions.Section] = typeof(ShardsApiOptions),
            [ShardsTlsOptions.Section] = typeof(ShardsTlsOptions),
        };
        foreach (var key in SiloEnvironment().Keys.Where(k => k.StartsWith("Shards:", StringComparison.Ordinal)))
        {
            var section = known.Keys.SingleOrDefault(s => key.StartsWith(s + ":", StringComparison.Ordinal));
            Assert.True(section is not null, $"{key} belongs to no options class the silo binds");
            var property = key[(section!.Length + 1)..].Split(':')[0];
            Assert.True(known[section].GetProperty(property) is not null, $"{key}: {known[section].Name} has no property {property}");
        }
    }

    [Fact]
    public void Secrets_come_from_the_environment_and_the_example_file_names_each_one()
    {
        var compose = File.ReadAllText(Path.Combine(s_root, "docker-compose.yml"));
        var example = File.ReadAllText(Path.Combine(s_root, ".env.example"));
        foreach (var secret in new[] { "POSTGRES_PASSWORD", "SHARDS_API_KEY", "SHARDS_TLS_PASSWORD" })
        {
            Assert.Contains($"${{{secret}:?", compose, StringComparison.Ordinal);
            Assert.Contains($"{secret}=", example, StringComparison.Ordinal);
        }

        Assert.Contains(".env", File.ReadAllLines(Path.Combine(s_root, ".gitignore")));
    }

    [Fact]
    public void Silos_take_mutual_tls_with_the_certificate_mounted_read_only_from_the_git_ignored_folder()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(SiloEnvironment()).Build();
        var tls = configuration.GetSection(ShardsTlsOptions.Section).Get<ShardsTlsOptions>()!;

        Assert.True(tls.Enabled);
        Assert.Equal("secret", tls.CertificatePassword);
        var mounts = ((YamlSequenceNode)Service("silo")["volumes"]).Children.Select(v => ((YamlScalarNode)v).Value!.Split(':')).ToList();
        var mount = Assert.Single(mounts, m => tls.CertificatePath!.StartsWith(m[1] + "/", StringComparison.Ordinal));
        Assert.Equal(["./deploy/tls", "ro"], new[] { mount[0], mount[2] });
        Assert.Contains("deploy/tls/", File.ReadAllLines(Path.Combine(s_root, ".gitignore")));
        Assert.True(File.Exists(Path.Combine(s_root, "scripts", "make-cluster-cert.sh")), "the script that makes deploy/tls/ is missing");
    }

    /// <summary>The silo's environment as configuration keys (__ → :), secrets replaced by placeholders.</summary>
    private Dictionary<string, string?> SiloEnvironment() =>
        ((YamlMappingNode)Service("silo")["environment"]).Children.ToDictionary(
            pair => ((YamlScalarNode)pair.Key).Value!.Replace("__", ":", StringComparison.Ordinal),
            pair => (string?)System.Text.RegularExpressions.Regex.Replace(((YamlScalarNode)pair.Value).Value!, @"\$\{[^}]+\}", "secret"));

    private YamlMappingNode Service(string name) => (YamlMappingNode)_services[name];

    private static string? Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node[key]).Value;

    private static YamlMappingNode Services()
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Path.Combine(s_root, "docker-compose.yml"));
        yaml.Load(reader);
        return (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["services"];
    }
}
