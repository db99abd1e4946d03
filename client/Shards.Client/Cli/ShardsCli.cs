using System.CommandLine;
using Shards.Client.Commands;

namespace Shards.Client.Cli;

/// <summary>The <c>shards</c> command line: every subcommand, one parser.</summary>
public static class ShardsCli
{
    public static RootCommand Build()
    {
        var global = new GlobalOptions();
        var root = new RootCommand("shards: run, inspect and break a sharded Orleans store on PostgreSQL");
        global.AddTo(root);
        root.Subcommands.Add(DemoCommand.Create(global));
        root.Subcommands.Add(DbCommands.Create(global));
        root.Subcommands.Add(ClusterCommands.Create(global));
        root.Subcommands.Add(MembersCommand.Create(global));
        root.Subcommands.Add(StoreCommands.Product(global));
        root.Subcommands.Add(StoreCommands.Cart(global));
        root.Subcommands.Add(StoreCommands.Where(global));
        root.Subcommands.Add(StoreCommands.Seed(global));
        root.Subcommands.Add(DistributionCommand.Create(global));
        root.Subcommands.Add(KillCommand.Create(global));
        root.Subcommands.Add(LoadCommand.Create(global));
        root.Subcommands.Add(BenchCommand.Create(global));
        return root;
    }

    public static Task<int> RunAsync(string[] args) =>
        Build().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(45) });
}
