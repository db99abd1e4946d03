using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;
using Shards.Contracts.Common;
using Shards.Domain;
using Shards.Storage;

namespace Shards.Grains.Common;

/// <summary>What a command decided: the state to store (null: nothing changes) and the answer the caller gets.</summary>
internal readonly record struct Decision<TState, TResult>(TState? Next, TResult Result)
    where TState : class;

/// <summary>
/// The one way a grain changes its state, one instance per activation (docs/exactly-once.md). A command runs once per
/// request ID, whatever copies of it arrive and wherever the grain lives: the activation knows the requests applied to
/// the grain that a copy may still repeat (loaded with the state, kept in memory, each new one logged by the storage
/// in the same transaction as the change), answers a copy with the original outcome, and refuses a request past its
/// deadline (<see cref="ShardsErrorCode.Expired"/>). A new state becomes current only once storage acknowledged it.
/// A version conflict (another activation wrote) reloads state and log and runs the command again on what is stored;
/// any other failed write may have been stored, so the state is reloaded before it is used again and the caller is
/// told the outcome is unknown (StorageUnavailable: retry under the same request ID). Domain rules broken inside a
/// command become the <see cref="ShardsException"/> callers understand.
/// </summary>
/// <remarks>Grains are not reentrant: one command runs at a time; only reads interleave, and they see <see cref="Acknowledged"/>.</remarks>
internal sealed class StateCommands<TState>(IPersistentState<TState> storage, string stateName, string storageName)
    where TState : class, IRequestLoggedState
{
    /// <summary>
    /// Requests applied to the grain that a copy may still repeat, by ID, with their outcome only when the storage keeps no
    /// request log (with one, the rare repeat reads it back); their expiries are in <see cref="_expiries"/>.
    /// </summary>
    private readonly Dictionary<Guid, byte[]?> _applied = [];
    private readonly PriorityQueue<Guid, DateTimeOffset> _expiries = new();

    /// <summary>The state object whose request log is taken in (read by the storage, or written here).</summary>
    private object? _taken;

    /// <summary>The acknowledged state while a write of its successor is in flight.</summary>
    private TState? _writing;

    /// <summary>A write failed without a clean version conflict: it may have been stored, so the state must be reloaded.</summary>
    private bool _unknown;

    private Services? _services;

    /// <summary>
    /// Awaited before the state the grain shows may change: before each write, and before a reload after a write of
    /// unknown outcome (a product revokes the read leases on its state, <see cref="Catalog.ProductReadLeases"/>).
    /// </summary>
    public Func<ValueTask>? BeforeChange { get; set; }

    /// <summary>The state storage last acknowledged: never one whose write is still in flight.</summary>
    public TState Acknowledged => _writing ?? storage.State;

    /// <summary>True when the last write's outcome is unknown: the state is reloaded before it is used.</summary>
    public bool NeedsReload => _unknown;

    /// <summary>How many requests the activation remembers now (for tests and diagnostics).</summary>
    public int Remembered => _applied.Count;

    /// <summary>The state to decide on: reloaded first when a write's outcome is unknown.</summary>
    public async ValueTask<TState> CurrentAsync(IGrainBase grain)
    {
        if (_unknown)
        {
            await ReloadAsync(grain);
        }

        TakeInLog();
        return storage.State;
    }

    /// <summary>
    /// Runs a command: a copy of a request already applied gets the original answer; a request past its deadline is
    /// refused; otherwise <paramref name="decide"/> computes the new state and the answer from the current state, the
    /// new state is stored with the request's log entry, and the answer is returned once storage acknowledged it.
    /// </summary>
    /// <param name="what">What changes, for messages, e.g. "cart cart-1".</param>
    public async Task<TResult> RunAsync<TResult>(IGrainBase grain, string what, Func<TState, ValueTask<Decision<TState, TResult>>> decide)
    {
        var services = Resolve(grain);
        await CurrentAsync(grain);
        LoggedRequest? request = null;
        if (RequestIds.CurrentId() is { } id)
        {
            if (_applied.TryGetValue(id, out var known))
            {
                return await OriginalOutcomeAsync<TResult>(grain, services, id, known, what);
            }

            request = await AdmitAsync(grain, services, id, what);
            if (request.Outcome is not null)
            {
                return Deserialize<TResult>(services, request.Outcome); // applied before its deadline, found in the log
            }
        }

        for (var attempt = 1; ; attempt++)
        {
            Decision<TState, TResult> decision;
            try
            {
                decision = await decide(storage.State);
            }
            catch (DomainRuleException broken)
            {
                throw DomainRules.ToShardsException(broken);
            }

            if (decision.Next is not { } next)
            {
                return decision.Result; // nothing to change: nothing stored, nothing logged (a repeat decides the same)
            }

            var applying = request is null ? null : request with { Outcome = services.Serializer.SerializeToArray(decision.Result) };
            if (await TryWriteAsync(grain, services, next, applying, what))
            {
                if (applying is not null)
                {
                    Remember(services, applying);
                }

                return decision.Result;
            }

            // Another activation wrote meanwhile: what is stored now decides.
            await ReloadAsync(grain);
            if (request is not null && _applied.TryGetValue(request.Id, out var stored))
            {
                return await OriginalOutcomeAsync<TResult>(grain, services, request.Id, stored, what);
            }

            if (attempt >= 2)
            {
                throw new ShardsException(
                    ShardsErrorCode.StorageUnavailable,
                    $"The {what} kept being changed by another writer while this change was being stored; nothing of it was stored. Retry with the same request ID.");
            }
        }
    }

    /// <summary>
    /// Stores <paramref name="next"/>, computed by the caller from <see cref="CurrentAsync"/>, without a request-log entry
    /// (a change that is idempotent by its own key, e.g. a saga step by order ID). A version conflict reloads the state
    /// and fails with StorageUnavailable (transient: the caller decides again on the reloaded state); any other failure
    /// leaves the outcome unknown, as in <see cref="RunAsync{TResult}"/>.
    /// </summary>
    public async Task CommitAsync(IGrainBase grain, TState next, string what)
    {
        var services = Resolve(grain);
        if (!await TryWriteAsync(grain, services, next, applying: null, what))
        {
            await ReloadAsync(grain);
            throw new ShardsException(
                ShardsErrorCode.StorageUnavailable,
                $"The {what} was changed by another writer while this change was being stored; nothing of it was stored, and the stored state was reloaded. Retry.");
        }
    }

    /// <summary>Reads state and request log again from storage; fails with StorageUnavailable (state still unknown) when it cannot.</summary>
    public async Task ReloadAsync(IGrainBase grain)
    {
        var services = Resolve(grain);
        if (BeforeChange is { } beforeChange)
        {
            await beforeChange();
        }

        try
        {
            await storage.ReadStateAsync();
        }
        catch (Exception exception)
        {
            _unknown = true;
            Log.ReloadFailed(services.Logger, grain.GrainContext.GrainId, exception);
            throw new ShardsException(
                ShardsErrorCode.StorageUnavailable,
                $"The {stateName} state of {grain.GrainContext.GrainId} could not be reloaded after a write whose outcome is unknown " +
                $"({StorageReason(exception) ?? exception.GetType().Name}). Nothing was done; retry with the same request ID.");
        }

        _unknown = false;
        TakeInLog();
    }

    /// <summary>
    /// The request to apply, after its deadline checks. A request past its deadline is never applied: its original
    /// outcome comes from the request log when it was applied (returned with <see cref="LoggedRequest.Outcome"/> set),
    /// otherwise it is refused as expired.
    /// </summary>
    private async Task<LoggedRequest> AdmitAsync(IGrainBase grain, Services services, Guid id, string what)
    {
        var now = services.Time.GetUtcNow();
        var skew = services.Options.ClockSkewAllowance;
        var deadline = RequestIds.CurrentDeadline();
        if (deadline is { } due && due <= now)
        {
            if (services.Log is { } log && await log.FindAsync(stateName, grain.GrainContext.GrainId, id) is { Outcome: not null } found)
            {
                return found;
            }

            throw new ShardsException(
                ShardsErrorCode.Expired,
                now < due + skew + services.Options.Retention
                    ? $"Request {id} for the {what} expired at {due:u} before it was applied: it was not applied, and no copy of it ever will be. Send it again under a new request ID if it is still wanted."
                    : $"Request {id} for the {what} expired at {due:u}, longer ago than the request log keeps outcomes: whether it was applied is no longer known. Read the {what} and send a new request if needed.");
        }

        if (deadline is { } far && far > now + RequestIds.MaxLifetime + skew)
        {
            throw new ShardsException(
                ShardsErrorCode.Validation,
                $"Request {id} for the {what} has a deadline {far:u}, further ahead than the longest a request may live ({RequestIds.MaxLifetime.TotalMinutes:0} min). Nothing changed.");
        }

        return new LoggedRequest(id, (deadline ?? now + RequestIds.MaxLifetime) + skew);
    }

    /// <summary>
    /// Makes <paramref name="next"/> the state and writes it. True once stored; false on a version conflict (the
    /// acknowledged state is back in place). Any other failure puts the acknowledged state back, marks the state
    /// unknown (reloaded before it is used again) and throws StorageUnavailable saying the outcome is unknown.
    /// </summary>
    private async Task<bool> TryWriteAsync(IGrainBase grain, Services services, TState next, LoggedRequest? applying, string what)
    {
        if (BeforeChange is { } beforeChange)
        {
            await beforeChange();
        }

        var previous = storage.State;
        next.Applying = applying;
        next.Recent = null;
        _writing = previous;
        storage.State = next;
        try
        {
            await storage.WriteStateAsync();
            _taken = next;
            return true;
        }
        catch (Exception exception) when (IsVersionConflict(exception))
        {
            storage.State = previous;
            Log.WriteConflict(services.Logger, grain.GrainContext.GrainId, exception);
            return false;
        }
        catch (Exception exception)
        {
            storage.State = previous;
            _unknown = true;
            Log.WriteFailed(services.Logger, grain.GrainContext.GrainId, exception);
            throw new ShardsException(
                ShardsErrorCode.StorageUnavailable,
                StorageReason(exception) is { } reason
                    ? $"The {what} could not be stored: {reason} The outcome is unknown: retry with the same request ID, which applies it once or answers its original outcome."
                    : $"The {what} could not be stored: storage is unavailable, and the outcome is unknown (the commit may have landed). Retry with the same request ID, which applies it once or answers its original outcome.");
        }
        finally
        {
            next.Applying = null;
            _writing = null;
        }
    }

    /// <summary>The answer a request already applied got: kept here, or read from the request log.</summary>
    private async Task<TResult> OriginalOutcomeAsync<TResult>(IGrainBase grain, Services services, Guid id, byte[]? known, string what)
    {
        var outcome = known;
        if (outcome is null && services.Log is { } log)
        {
            outcome = (await log.FindAsync(stateName, grain.GrainContext.GrainId, id))?.Outcome;
        }

        return outcome is not null
            ? Deserialize<TResult>(services, outcome)
            : throw new ShardsException(
                ShardsErrorCode.StorageUnavailable,
                $"Request {id} was already applied to the {what}, but its original outcome could not be read from the request log. Nothing more was done; retry with the same request ID.");
    }

    /// <summary>Takes in the request log the storage read with the current state, once per state object read.</summary>
    private void TakeInLog()
    {
        var current = storage.State;
        if (ReferenceEquals(current, _taken))
        {
            return;
        }

        _taken = current;
        if (current.Recent is not { } recent)
        {
            return; // a storage without a request log: keep what this activation applied itself
        }

        _applied.Clear();
        _expiries.Clear();
        foreach (var request in recent)
        {
            _applied[request.Id] = request.Outcome;
            _expiries.Enqueue(request.Id, request.ExpiresAt);
        }

        current.Recent = null;
    }

    /// <summary>Remembers a request this activation applied, and forgets those whose last copy can no longer arrive.</summary>
    private void Remember(Services services, LoggedRequest applied)
    {
        var now = services.Time.GetUtcNow();
        while (_expiries.TryPeek(out var oldest, out var expiresAt) && expiresAt < now)
        {
            _expiries.Dequeue();
            _applied.Remove(oldest);
        }

        // With a request log the outcome is read back from it on the rare repeat; memory keeps IDs and expiries only.
        _applied[applied.Id] = services.Log is null ? applied.Outcome : null;
        _expiries.Enqueue(applied.Id, applied.ExpiresAt);
    }

    private Services Resolve(IGrainBase grain)
    {
        if (_services is { } known)
        {
            return known;
        }

        var provider = grain.GrainContext.ActivationServices;
        return _services = new Services(
            provider.GetRequiredService<Serializer>(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System,
            provider.GetService<IOptions<RequestLogOptions>>()?.Value ?? new RequestLogOptions(),
            provider.GetKeyedService<IGrainStorage>(storageName) as IRequestLogStorage,
            provider.GetRequiredService<ILoggerFactory>().CreateLogger("Shards.Grains.StateCommands"));
    }

    /// <summary>An answer as it was serialised when the request was applied (answers are never null).</summary>
    private static TResult Deserialize<TResult>(Services services, byte[] outcome) =>
        services.Serializer.Deserialize<TResult>(outcome)!;

    private static bool IsVersionConflict(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is InconsistentStateException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The reason Shards' storage gave (e.g. a stale shard map), already fit for a caller; null for anything else.</summary>
    private static string? StorageReason(Exception exception) => ShardsFailures.Find(exception)?.Message;

    private sealed record Services(Serializer Serializer, TimeProvider Time, RequestLogOptions Options, IRequestLogStorage? Log, ILogger Logger);
}
