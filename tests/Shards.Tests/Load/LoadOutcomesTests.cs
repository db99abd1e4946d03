using System.Net;
using Shards.Contracts.Common;
using Shards.History;
using Shards.Load;

namespace Shards.Tests.Load;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class LoadOutcomesTests
{
    [Theory]
    [InlineData(ShardsErrorCode.Validation, OperationOutcome.Failed)]
    [InlineData(ShardsErrorCode.NotFound, OperationOutcome.Failed)]
    [InlineData(ShardsErrorCode.Conflict, OperationOutcome.Failed)]
    [InlineData(ShardsErrorCode.Expired, OperationOutcome.Failed)]
    [InlineData(ShardsErrorCode.StorageUnavailable, OperationOutcome.Unknown)]
    public void A_shards_domain_refusal_failed_definitely_and_a_storage_failure_has_an_unknown_outcome(ShardsErrorCode code, OperationOutcome expected)
    {
        var error = new ShardsException(code, "pretend");

        Assert.Equal(expected, LoadOutcomes.Classify(error));
        Assert.Equal(expected, LoadOutcomes.Classify(new OrleansException("Error from storage provider", error)));
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, OperationOutcome.Failed)]
    [InlineData(HttpStatusCode.NotFound, OperationOutcome.Failed)]
    [InlineData(HttpStatusCode.Conflict, OperationOutcome.Failed)]
    [InlineData(HttpStatusCode.UnprocessableEntity, OperationOutcome.Failed)]
    [InlineData(HttpStatusCode.TooManyRequests, OperationOutcome.Failed)]
    [InlineData(HttpStatusCode.InternalServerError, OperationOutcome.Unknown)]
    [InlineData(HttpStatusCode.BadGateway, OperationOutcome.Unknown)]
    [InlineData(HttpStatusCode.ServiceUnavailable, OperationOutcome.Unknown)]
    [InlineData(HttpStatusCode.GatewayTimeout, OperationOutcome.Unknown)]
    public void Http_4xx_refusals_and_rate_limiting_failed_definitely_and_5xx_answers_have_an_unknown_outcome(HttpStatusCode status, OperationOutcome expected)
    {
        Assert.Equal(expected, LoadOutcomes.Classify(new HttpRequestException("pretend", null, status)));
    }

    [Fact]
    public void Timeouts_and_transport_errors_have_an_unknown_outcome()
    {
        Assert.Equal(OperationOutcome.Unknown, LoadOutcomes.Classify(new TimeoutException()));
        Assert.Equal(OperationOutcome.Unknown, LoadOutcomes.Classify(new TaskCanceledException()));
        Assert.Equal(OperationOutcome.Unknown, LoadOutcomes.Classify(new HttpRequestException("connection refused")));
        Assert.Equal(OperationOutcome.Unknown, LoadOutcomes.Classify(new SiloUnavailableException()));
    }
}
