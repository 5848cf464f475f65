using Yarp.ReverseProxy.Configuration;

// A bare YARP app: one catch-all route to one destination, loaded from memory. Usage:
//   bare-yarp --urls http://127.0.0.1:PORT --origin http://127.0.0.1:ORIGIN_PORT
var builder = WebApplication.CreateBuilder(args);
var origin = builder.Configuration["origin"] ?? throw new ArgumentException("--origin http://HOST:PORT is required");
// Per-request Information logs from YARP would measure the console, not the proxy.
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "origin", Match = new RouteMatch { Path = "/{**rest}" } }],
    [new ClusterConfig
    {
        ClusterId = "origin",
        Destinations = new Dictionary<string, DestinationConfig> { ["o1"] = new() { Address = origin } },
    }]);
var app = builder.Build();
app.MapReverseProxy();
app.Run();
