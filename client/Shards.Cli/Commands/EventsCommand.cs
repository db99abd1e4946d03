using System.CommandLine;
using System.Globalization;
using Shards.Cli.Core;
using Shards.Contracts.Listing;

namespace Shards.Cli.Commands;

/// <summary>
/// <c>shards events</c>: the most recent <c>purchased</c> events from the checkout service's outbox, each with its
/// deliveries (subscription, subscriber grain, attempts, delivered or pending, last error). <c>--follow</c> keeps
/// polling and prints each event again when its deliveries change, until Ctrl+C or <c>--for</c> runs out.
/// </summary>
internal static class EventsCommand
{
    public static Command Create(GlobalOptions global)
    {
        var limit = new Option<int>("--limit", "-n")
        {
            Description = $"How many recent events, 1-{ListingLimits.MaxEvents}",
            DefaultValueFactory = _ => ListingLimits.DefaultEvents,
        }.Checked(n => CliValidation.InRange(n, 1, ListingLimits.MaxEvents, "--limit"));
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep watching: print new events and delivery changes as they happen (Ctrl+C stops)" };
        var duration = new Option<TimeSpan?>("--for")
        {
            Description = "With --follow: stop after this long (e.g. 30s, 5m)",
            CustomParser = LoadCommand.ParseDuration,
            HelpName = "duration",
        };
        var interval = new Option<TimeSpan?>("--interval")
        {
            Description = "With --follow: how often to look (default 1s)",
            CustomParser = LoadCommand.ParseDuration,
            HelpName = "duration",
        };
        var command = new Command("events", "Recent purchased events and their deliveries to the subscribing services, newest first")
        {
            limit, follow, duration, interval,
        };
        global.SetAction(command, async (parseResult, context, ct) =>
        {
            var listing = (await context.ConnectAsync(ct)).GetGrain<IStoreListingGrain>(ListingLimits.GrainKey);
            var events = await listing.RecentEventsAsync(parseResult.GetValue(limit), ct);
            if (!parseResult.GetValue(follow))
            {
                if (events.Count == 0)
                {
                    context.Output.Line("No purchased events yet: check a cart out (shards checkout CART --order ID).");
                }

                foreach (var e in events.Reverse())
                {
                    Print(context, e);
                }

                context.Output.Document(new { events });
                return ExitCodes.Ok;
            }

            if (context.Output.Json)
            {
                throw new CliException("--follow prints events as they change, not one JSON document: leave out --json, or --follow.");
            }

            using var stop = new StopSignals(ct);
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
            if (parseResult.GetValue(duration) is { } span)
            {
                bounded.CancelAfter(span);
            }

            await FollowAsync(context, listing, events, parseResult.GetValue(limit), parseResult.GetValue(interval) ?? TimeSpan.FromSeconds(1), bounded.Token);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Prints what is there, then every event that appears or whose deliveries change, oldest first.</summary>
    private static async Task FollowAsync(
        CliContext context, IStoreListingGrain listing, IReadOnlyList<PurchasedEventView> first, int limit, TimeSpan interval, CancellationToken stop)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var events = first;
        context.Output.Line($"Following purchased events (every {interval.TotalSeconds:0.#} s; Ctrl+C stops).");
        while (true)
        {
            foreach (var e in events.Reverse())
            {
                var progress = Progress(e);
                if (!seen.TryGetValue(e.EventId, out var before) || before != progress)
                {
                    seen[e.EventId] = progress;
                    Print(context, e);
                }
            }

            try
            {
                await Task.Delay(interval, stop);
                events = await listing.RecentEventsAsync(limit, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static string Progress(PurchasedEventView e) =>
        string.Join(';', e.Deliveries.Select(d => $"{d.Subscriber}:{d.Delivered}:{d.Attempts}"));

    private static void Print(CliContext context, PurchasedEventView e)
    {
        var delivered = e.Deliveries.Count - e.Pending;
        context.Output.Line(
            $"{Time(e.PaidAt)}  {e.EventId}: cart {e.CartId}, {e.Lines} line(s), total {e.Total.ToString("0.00", CultureInfo.InvariantCulture)}; " +
            $"delivered to {delivered} of {e.Deliveries.Count} subscriber(s){(e.Pending > 0 ? $", {e.Pending} pending" : "")}");
        context.Output.Table(
            ["SUBSCRIPTION", "SUBSCRIBER", "ATTEMPTS", "STATUS"],
            e.Deliveries.Select(d => (IReadOnlyList<string>)
            [
                d.Subscription,
                d.Subscriber,
                d.Attempts.ToString(CultureInfo.InvariantCulture),
                d.Delivered
                    ? $"delivered{(d.DeliveredAt is { } at ? $" {Time(at)}" : "")}"
                    : $"pending{(d.LastError is { } error ? $": {error}" : "")}",
            ]));
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
}
