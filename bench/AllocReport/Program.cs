using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// alloc-report TRACE.nettrace REQUESTS [TOP]: what the process allocated per request, from the
// runtime's AllocationTick samples (one about every 100 KB allocated, each naming the type and
// stack of the allocation that crossed the mark), so a type's bytes are good to ±100 KB over the
// window: compare totals and types with thousands of samples, not single stacks.
if (args.Length < 2 || !long.TryParse(args[1], out var requests) || requests <= 0)
{
    Console.Error.WriteLine("usage: alloc-report TRACE.nettrace REQUESTS [TOP]  (REQUESTS: how many the process served in the trace's window)");
    return 2;
}
var top = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 25;

using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(args[0]));
var byType = new Dictionary<string, long>();
var byStack = new Dictionary<string, long>();
long total = 0;
int gcs = 0, gen0 = 0;
foreach (var e in log.Events)
{
    if (e is GCStartTraceData start)
    {
        gcs++;
        if (start.Depth == 0) gen0++;
        continue;
    }
    if (e is not GCAllocationTickTraceData tick) continue;
    total += tick.AllocationAmount64;
    byType[tick.TypeName] = byType.GetValueOrDefault(tick.TypeName) + tick.AllocationAmount64;
    var frames = new List<string>();
    for (var frame = e.CallStack(); frame is not null && frames.Count < 4; frame = frame.Caller)
    {
        var method = frame.CodeAddress.FullMethodName;
        if (string.IsNullOrEmpty(method) || method.StartsWith("System.Runtime.CompilerServices.", StringComparison.Ordinal)) continue;
        frames.Add(method.Length > 100 ? method[..100] : method);
    }
    var key = $"{tick.TypeName} <= {string.Join(" <= ", frames)}";
    byStack[key] = byStack.GetValueOrDefault(key) + tick.AllocationAmount64;
}

Console.WriteLine($"allocated: {total / (double)requests:F0} bytes per request ({total / 1048576.0:F0} MiB sampled over {requests} requests); GCs: {gcs} ({gen0} gen0), one per {requests / (double)Math.Max(gcs, 1):F0} requests");
Console.WriteLine("\nbytes/request  type");
foreach (var (type, bytes) in byType.OrderByDescending(x => x.Value).Take(top)) Console.WriteLine($"{bytes / (double)requests,13:F1}  {type}");
Console.WriteLine("\nbytes/request  type <= allocating frames");
foreach (var (stack, bytes) in byStack.OrderByDescending(x => x.Value).Take(top)) Console.WriteLine($"{bytes / (double)requests,13:F1}  {stack}");
return 0;
