using Shards.Load;

namespace Shards.Tests.Load;

[Trait(TestCategories.Name, TestCategories.Unit)]
public class WriteCheckTests
{
    [Fact]
    public void Every_acknowledged_write_present_is_neither_lost_nor_duplicated()
    {
        var cell = new WriteCell(Acknowledged: 7, Failed: 0, Initial: 3, Final: 10);

        Assert.Equal((7, 0, 0), (cell.Actual, cell.Lost, cell.Duplicated));
    }

    [Fact]
    public void A_missing_acknowledged_write_is_lost()
    {
        var cell = new WriteCell(Acknowledged: 7, Failed: 0, Initial: 3, Final: 8);

        Assert.Equal((2, 0), (cell.Lost, cell.Duplicated));
    }

    [Fact]
    public void A_write_seen_twice_is_duplicated()
    {
        var cell = new WriteCell(Acknowledged: 7, Failed: 0, Initial: 3, Final: 11);

        Assert.Equal((0, 1), (cell.Lost, cell.Duplicated));
    }

    [Theory]
    [InlineData(5, 0)] // no failed write landed
    [InlineData(6, 1)] // one of them landed
    [InlineData(7, 2)] // both landed
    public void A_failed_write_may_or_may_not_have_landed(long actual, long failedButApplied)
    {
        var cell = new WriteCell(Acknowledged: 5, Failed: 2, Initial: 0, Final: actual);

        Assert.Equal((0, 0, failedButApplied), (cell.Lost, cell.Duplicated, cell.FailedButApplied));
    }

    [Fact]
    public void More_than_acknowledged_plus_failed_is_duplicated_even_with_failed_writes()
    {
        var cell = new WriteCell(Acknowledged: 5, Failed: 2, Initial: 0, Final: 9);

        Assert.Equal((0, 2, 2), (cell.Lost, cell.Duplicated, cell.FailedButApplied));
    }

    [Fact]
    public void A_failed_write_cannot_hide_a_lost_acknowledged_one()
    {
        var cell = new WriteCell(Acknowledged: 5, Failed: 3, Initial: 10, Final: 14);

        Assert.Equal((1, 0, 0), (cell.Lost, cell.Duplicated, cell.FailedButApplied));
    }

    [Fact]
    public void A_line_emptied_by_someone_else_counts_its_acknowledged_writes_as_lost()
    {
        var cell = new WriteCell(Acknowledged: 4, Failed: 0, Initial: 6, Final: 0);

        Assert.Equal(4, cell.Lost);
    }

    [Fact]
    public void The_check_adds_up_its_cells_and_passes_only_when_nothing_is_wrong()
    {
        var good = WriteCheck.From([new WriteCell(5, 1, 0, 6), new WriteCell(3, 0, 2, 5)], cartsChecked: 2, cartsUnreadable: 0, 0, 0);
        var lost = WriteCheck.From([new WriteCell(5, 0, 0, 4)], 1, 0, 0, 0);
        var duplicated = WriteCheck.From([new WriteCell(5, 0, 0, 6)], 1, 0, 0, 0);
        var unverified = WriteCheck.From([new WriteCell(5, 0, 0, 5)], 1, cartsUnreadable: 1, acknowledgedUnchecked: 4, failedUnchecked: 1);

        Assert.Equal(new WriteCheck(8, 1, 1, 0, 0, 2, 0, 0), good);
        Assert.True(good.Passed);
        Assert.False(lost.Passed);
        Assert.False(duplicated.Passed);
        Assert.Equal(new WriteCheck(9, 1, 0, 0, 0, 1, 1, 4), unverified);
        Assert.False(unverified.Passed);
    }

    [Fact]
    public void A_hot_cart_among_fewer_than_four_writes_every_product_so_its_lines_do_not_fill_up_in_a_long_run()
    {
        var workload = new LoadWorkload(1);

        Assert.Equal(LoadWorkload.AllSkus().Order(), Enumerable.Range(0, workload.SkusPerCart).Select(slot => workload.SkuOf(0, slot)).Order());
    }

    [Fact]
    public void Each_cart_writes_five_different_products_and_every_product_is_used()
    {
        var workload = new LoadWorkload(40);
        var perCart = Enumerable.Range(0, 40).Select(cart => Enumerable.Range(0, workload.SkusPerCart).Select(slot => workload.SkuOf(cart, slot)).ToList()).ToList();

        Assert.All(perCart, skus => Assert.Equal(5, skus.Distinct().Count()));
        Assert.Equal(LoadWorkload.AllSkus().Order(), perCart.SelectMany(s => s).Distinct().Order());
        Assert.Equal("load-cart-00001", LoadWorkload.CartId(0));
        Assert.Equal("load-sku-020", LoadWorkload.Sku(20));
    }
}
