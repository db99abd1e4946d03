using System.Net.Sockets;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Shards.Contracts.Common;

namespace Shards.Tests.Client;

/// <summary>Which failed calls the client's retry filter and the HTTP API re-send under the same request ID.</summary>
[Trait(TestCategories.Name, TestCategories.Unit)]
public sealed class ShardsFailuresTests
{
    public static TheoryData<Exception> Transient() =>
    [
        new ConnectionFailedException("Unable to connect to endpoint S127.0.0.1:45081:0"),
        new TimeoutException("response timeout"),
        new SocketException((int)SocketError.ConnectionRefused),
        new OrleansException("wrapped", new SocketException((int)SocketError.ConnectionReset)),
        new ShardsException(ShardsErrorCode.StorageUnavailable, "PostgreSQL is down"),
        new ShardsException(ShardsErrorCode.SiloCutOff, "silo cannot reach a majority of the cluster"),
        new OrleansException("wrapped", new ShardsException(ShardsErrorCode.SiloCutOff, "cut off")),
    ];

    public static TheoryData<Exception> Final() =>
    [
        new ShardsException(ShardsErrorCode.NotFound, "no such product"),
        new ShardsException(ShardsErrorCode.Conflict, "changed by another writer"),
        new ArgumentException("bad input"),
        new OrleansException("no inner cause"),
    ];

    [Theory]
    [MemberData(nameof(Transient))]
    public void Cluster_and_storage_hiccups_are_worth_another_attempt(Exception failure) =>
        Assert.True(ShardsFailures.IsTransient(failure));

    [Theory]
    [MemberData(nameof(Final))]
    public void Domain_errors_and_unknown_failures_are_not_retried(Exception failure) =>
        Assert.False(ShardsFailures.IsTransient(failure));
}
