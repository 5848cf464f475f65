using Portway.Cli;

// Socket completions run on the runtime's epoll threads (one per core) instead of hopping to the
// thread pool: a proxy's request is a chain of small socket reads and writes, and on a small
// machine the hops (wake-ups and context switches) cost more than the work. Measured with
// bench/proxy.sh and bench/tunnel.sh (docs/benchmarks.md, "Inline socket completions"). Kestrel
// still runs request code on the thread pool (its own scheduling is not made inline). Read once,
// when the first socket is made, so this must come before anything else; a value set by the user
// (0 turns it off) wins.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

return await PortwayCli.RunAsync(args);
