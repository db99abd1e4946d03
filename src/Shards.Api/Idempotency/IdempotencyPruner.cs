using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Shards.Api.Options;
using Shards.Api.Problems;

namespace Shards.Api.Idempotency;

/// <summary>
/// Deletes <c>Idempotency-Key</c> records past their retention, every <see cref="ApiIdempotencyOptions.PrunePeriod"/>,
/// in batches of <see cref="ApiIdempotencyOptions.PruneBatchSize"/> (each batch one short transaction). Every silo runs
/// it; an advisory lock lets one at a time do the work (<c>shards_http_idempotency_prune</c>). A failure is logged and
/// tried again next period: it never stops the host.
/// </summary>
internal sealed class IdempotencyPruner(
    IdempotencyStore store, IOptions<ShardsApiOptions> options, TimeProvider time, ILogger<IdempotencyPruner> logger) : BackgroundService
{
    /// <summary>At most this many batches per period, so one silo's turn stays short.</summary>
    private const int MaxBatchesPerPeriod = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Idempotency;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(settings.PrunePeriod, time, stoppingToken);
                var deleted = 0;
                for (var batch = 0; batch < MaxBatchesPerPeriod; batch++)
                {
                    var count = await store.PruneAsync(settings.PruneBatchSize, stoppingToken);
                    deleted += count;
                    if (count < settings.PruneBatchSize)
                    {
                        break;
                    }
                }

                if (deleted > 0)
                {
                    ApiLog.IdempotencyPruned(logger, deleted);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                ApiLog.IdempotencyPruneFailed(logger, ex.Message);
            }
        }
    }
}
