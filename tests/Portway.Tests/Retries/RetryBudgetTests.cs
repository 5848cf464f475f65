using Microsoft.Extensions.Time.Testing;
using Portway.Edge.Retries;
using Xunit;

namespace Portway.Tests.Retries;

public sealed class RetryBudgetTests
{
    [Fact]
    public void TryWithdraw_NoTraffic_FloorOfTenPerSecondOverTheWindow()
    {
        var budget = new RetryBudget(new FakeTimeProvider());

        var allowed = 0;
        while (budget.TryWithdraw(20) && allowed < 1000) allowed++;

        Assert.Equal(RetryBudget.MinPerSecond * 10, allowed);
    }

    [Fact]
    public void TryWithdraw_ThousandRequests_TwentyPercentOnTopOfTheFloor()
    {
        var budget = new RetryBudget(new FakeTimeProvider());
        for (var i = 0; i < 1000; i++) budget.Deposit();

        var allowed = 0;
        while (budget.TryWithdraw(20) && allowed < 1000) allowed++;

        Assert.Equal(100 + 200, allowed);
    }

    [Fact]
    public void TryWithdraw_WindowPasses_BudgetRefills()
    {
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(time);
        while (budget.TryWithdraw(20)) { }
        Assert.True(budget.JustExhausted());
        Assert.False(budget.JustExhausted()); // said once, not per refusal

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(budget.TryWithdraw(20)); // the spent retries are still inside the 10 s window
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.True(budget.TryWithdraw(20));
    }
}
