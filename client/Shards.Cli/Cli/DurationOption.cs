using System.CommandLine;
using Shards.Load;

namespace Shards.Cli;

/// <summary>Options whose value is a duration written as <c>load -t</c> takes it: 30s, 2m, 1h or a number of seconds.</summary>
internal static class DurationOption
{
    /// <summary>A duration option; a value that does not parse, or is not more than zero unless <paramref name="zeroAllowed"/>, is refused while parsing.</summary>
    public static Option<TimeSpan> Create(string name, string description, TimeSpan defaultValue, bool zeroAllowed) =>
        new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            HelpName = "duration",
            CustomParser = result =>
            {
                try
                {
                    var duration = LoadDuration.Parse(result.Tokens.Single().Value);
                    if (duration > TimeSpan.Zero || (zeroAllowed && duration == TimeSpan.Zero))
                    {
                        return duration;
                    }

                    result.AddError($"{name} must be more than 0.");
                }
                catch (FormatException ex)
                {
                    result.AddError(ex.Message);
                }

                return defaultValue;
            },
        };
}
