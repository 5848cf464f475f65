using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Inspector;

public sealed class InspectorPageTests
{
    [SkippableFact]
    public async Task Page_InHeadlessChromium_ListsRequestsAndFollowsNewOnesLive()
    {
        var chromium = Tools.Require("chromium", "chromium");
        await using var f = await InspectorFixture.StartAsync(ctx => ctx.Response.WriteAsync("{\"ok\":true}"));
        await f.VisitAsync("/before-the-page-opened?q=1");
        await f.WaitForRequestsAsync(1);
        var page = await f.Inspector.GetStringAsync("/");
        Assert.DoesNotContain("/before-the-page-opened", page); // so finding it in the DOM proves the script rendered it

        await using var browser = await HeadlessChromium.OpenAsync(chromium, f.Agent.Host.InspectorUrl!);
        const string Rows = "document.querySelector('#rows') ? document.querySelector('#rows').innerText : ''";
        await Wait.UntilAsync(async () => (await browser.EvaluateAsync(Rows)).Contains("/before-the-page-opened?q=1"), TimeSpan.FromSeconds(30), "the page lists the first request");
        await Wait.UntilAsync(async () => await browser.EvaluateAsync("document.querySelector('#live').textContent") == "live", TimeSpan.FromSeconds(30), "the page follows /api/events");

        await f.VisitAsync("/after-the-page-opened");
        await Wait.UntilAsync(async () => (await browser.EvaluateAsync(Rows)).Contains("/after-the-page-opened"), TimeSpan.FromSeconds(30), "the page shows the new request without a reload");

        // The filter hides rows that do not match.
        await browser.EvaluateAsync("(() => { const f = document.querySelector('#filter'); f.value = 'after'; f.dispatchEvent(new Event('input')); return ''; })()");
        Assert.Equal("1", await browser.EvaluateAsync("String([...document.querySelectorAll('#rows tr')].filter(r => !r.hidden).length)"));
        await browser.EvaluateAsync("(() => { const f = document.querySelector('#filter'); f.value = ''; f.dispatchEvent(new Event('input')); return ''; })()");

        // Selecting a row shows its response body, JSON pretty-printed.
        await browser.EvaluateAsync("document.querySelector('#rows tr:last-child').click(), ''");
        await Wait.UntilAsync(async () => (await browser.EvaluateAsync("document.querySelector('#detail').innerText")).Contains("\"ok\": true"), TimeSpan.FromSeconds(30), "the detail pane shows the body");
    }
}
