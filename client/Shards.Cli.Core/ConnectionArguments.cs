using Microsoft.Extensions.Configuration;
using System.Data.Common;

namespace Shards.Cli.Core;

/// <summary>
/// A connection string given on the command line (<c>--connection</c>, the DB of <c>reshard add|remove</c>), in one
/// of three forms: <c>name:NAME</c>, the configuration's <c>ConnectionStrings:NAME</c> (environment
/// <c>ConnectionStrings__NAME</c>); <c>-</c>, one line of standard input; else the value itself, with a warning on
/// stderr when it carries a password, which every user of the machine can read in the process list.
/// </summary>
public sealed class ConnectionArguments(IConfiguration configuration, TextReader standardInput, bool inputIsTerminal, TextWriter warnings)
{
    public const string NamePrefix = "name:";

    public const string StandardInput = "-";

    private static readonly string[] PasswordKeys = ["Password", "PWD", "PSW"];

    private bool _inputRead;

    /// <summary>Reads the process's own console.</summary>
    public static ConnectionArguments FromConsole(IConfiguration configuration) =>
        new(configuration, Console.In, !Console.IsInputRedirected, Console.Error);

    /// <summary>The connection string <paramref name="value"/> stands for; <paramref name="what"/> names it in messages (<c>--connection</c>, <c>DB</c>).</summary>
    public string Resolve(string value, string what)
    {
        if (value == StandardInput)
        {
            return ReadStandardInput(what);
        }

        if (value.StartsWith(NamePrefix, StringComparison.Ordinal))
        {
            return Named(value[NamePrefix.Length..], what);
        }

        if (HasPassword(value))
        {
            warnings.WriteLine(
                $"warning: the password in {what} is visible to every user of this machine in the process list (ps, /proc/PID/cmdline). " +
                $"Give {what} as {NamePrefix}NAME with the connection string in the environment variable ConnectionStrings__NAME, " +
                $"or as {StandardInput} with it on standard input.");
        }

        return value;
    }

    private string Named(string name, string what)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new CliException($"{what} {NamePrefix} needs a name: {NamePrefix}NAME reads the environment variable ConnectionStrings__NAME. Nothing changed.");
        }

        return configuration.GetConnectionString(name) is { } connectionString && !string.IsNullOrWhiteSpace(connectionString)
            ? connectionString
            : throw new CliException(
                $"{what} {NamePrefix}{name}: no connection string named '{name}'. Set the environment variable ConnectionStrings__{name} " +
                $"(or ConnectionStrings:{name} in {CliContext.SettingsFile}). Nothing changed.");
    }

    private string ReadStandardInput(string what)
    {
        if (_inputRead)
        {
            throw new CliException($"{what} {StandardInput}: standard input was already read for another connection string; give one of them as {NamePrefix}NAME. Nothing changed.");
        }

        if (inputIsTerminal)
        {
            throw new CliException(
                $"{what} {StandardInput}: standard input is a terminal; pipe the connection string in (e.g. < file, or from a secret store). Nothing changed.");
        }

        _inputRead = true;
        var line = standardInput.ReadLine()?.Trim();
        return string.IsNullOrEmpty(line)
            ? throw new CliException($"{what} {StandardInput}: standard input is empty; it must hold the connection string on its first line. Nothing changed.")
            : line;
    }

    private static bool HasPassword(string value)
    {
        if (!value.Contains('=', StringComparison.Ordinal))
        {
            return false; // a shard name, not a connection string
        }

        try
        {
            // Any keys (not only Npgsql's), so that a string Npgsql would refuse still warns; Npgsql's spellings of the password.
            var builder = new DbConnectionStringBuilder { ConnectionString = value };
            return PasswordKeys.Any(key => builder.TryGetValue(key, out var password) && !string.IsNullOrEmpty(password?.ToString()));
        }
        catch (ArgumentException)
        {
            return value.Contains("password", StringComparison.OrdinalIgnoreCase); // malformed: refused where it is used, warned here
        }
    }
}
