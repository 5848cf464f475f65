using System.Collections.Immutable;
using System.IO.Compression;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Portway.Configuration;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>compress</c>: brotli or gzip, as the client's Accept-Encoding prefers (q-values; br on a
/// tie), through ASP.NET Core's response compression. The rule wraps the response body for
/// everything after it — later rules, the shared cache, the forwarder — so the cache stores and
/// serves identity bytes and each client gets its own encoding on the way out (docs/caching.md).
/// </summary>
internal sealed class CompressRule : RuleKind<CompressRule.Config>
{
    /// <summary>ASP.NET Core's ResponseCompressionDefaults.MimeTypes, plus SVG (XML text in an image/ type).</summary>
    internal static readonly string[] DefaultTypes = [.. ResponseCompressionDefaults.MimeTypes, "image/svg+xml"];

    internal static readonly string[] Levels = ["fastest", "optimal"];

    /// <summary>Below this the encoding's own framing (gzip: 18 bytes) and the lost Content-Length cost more than the few bytes saved.</summary>
    private const long DefaultMinSize = 256;

    internal sealed record Config(EquatableArray<string> Types, string Level, long MinSize) : RuleConfig
    {
        public override string Kind => "compress";
    }

    public override string Name => "compress";

    public override string[] Keys { get; } = ["types", "level", "min_size"];

    public override Config? Read(YamlSection rule)
    {
        var types = ImmutableArray.CreateBuilder<string>();
        var given = rule.StringList("types");
        if (rule.Has("types") && given.Count == 0) rule.Error("types", "is empty; leave it out for the default list");
        foreach (var (type, node) in given)
        {
            var slash = type.IndexOf('/');
            if (slash <= 0 || slash == type.Length - 1 || type.Contains(';') || type.Contains(' '))
                rule.Context.Error(node, rule.Join("types"), $"'{type}' is not a media type; write it like text/html, application/json or text/*");
            else types.Add(type.ToLowerInvariant());
        }
        return new Config(rule.Has("types") ? types.ToImmutable() : [.. DefaultTypes], rule.Enum("level", Levels) ?? "fastest", rule.Size("min_size") ?? DefaultMinSize);
    }

    public override Rule Compile(Config config, RuleServices services) => new Compress(config);

    private sealed class Compress : Rule
    {
        /// <summary>ResponseCompressionProvider asks its services for a logger only; no logging provider, so nothing is written per request.</summary>
        private static readonly IServiceProvider Services = new ServiceCollection().AddLogging().BuildServiceProvider();

        private readonly Policy _policy;

        public Compress(Config config) : base(config)
        {
            var level = config.Level == "optimal" ? CompressionLevel.Optimal : CompressionLevel.Fastest;
            var options = new ResponseCompressionOptions
            {
                // An edge compresses over https as nginx and Caddy do; a response that mixes secrets
                // with reflected input (BREACH) opts out with Cache-Control: no-transform.
                EnableForHttps = true,
                MimeTypes = [.. config.Types],
            };
            // Brotli first: on equal q-values the provider's order decides, and br is smaller.
            options.Providers.Add(new BrotliCompressionProvider(Options.Create(new BrotliCompressionProviderOptions { Level = level })));
            options.Providers.Add(new GzipCompressionProvider(Options.Create(new GzipCompressionProviderOptions { Level = level })));
            _policy = new Policy(new ResponseCompressionProvider(Services, Options.Create(options)), config.MinSize);
        }

        public override Task? OnRequest(RuleRequest request) => null;

        public override bool Wraps => true;

        /// <summary>The middleware is per request because its next step is this request's rest of the chain; it holds two fields.</summary>
        public override Task WrapAsync(RuleRequest request, RequestDelegate rest) => new ResponseCompressionMiddleware(rest, _policy).Invoke(request.HttpContext);

        public override bool ChangesResponse => true;

        /// <summary>
        /// A response that would be compressed for a client that asked varies by Accept-Encoding even
        /// when this client got identity; ASP.NET adds Vary only when it compresses, so a cache in
        /// front could hand identity's Vary-less copy to every client.
        /// </summary>
        public override void OnResponse(HttpContext context)
        {
            var headers = context.Response.Headers;
            foreach (var value in headers.Vary)
            {
                if (value is not null && value.Contains(HeaderNames.AcceptEncoding, StringComparison.OrdinalIgnoreCase)) return;
            }
            if (_policy.ShouldCompressResponse(context)) headers.Append(HeaderNames.Vary, HeaderNames.AcceptEncoding);
        }
    }

    /// <summary>
    /// ASP.NET Core's choice of encoding and of compressible types, plus what it leaves to the
    /// application: HEAD and bodiless statuses untouched, partial content never re-encoded,
    /// Cache-Control: no-transform honoured (RFC 9111 §5.2.2.6), small bodies left alone.
    /// </summary>
    private sealed class Policy(ResponseCompressionProvider inner, long minSize) : IResponseCompressionProvider
    {
        public ICompressionProvider? GetCompressionProvider(HttpContext context) => inner.GetCompressionProvider(context);

        public bool CheckRequestAcceptsCompression(HttpContext context) =>
            !HttpMethods.IsHead(context.Request.Method) && inner.CheckRequestAcceptsCompression(context);

        public bool ShouldCompressResponse(HttpContext context)
        {
            var response = context.Response;
            if (response.StatusCode is < 200 or StatusCodes.Status204NoContent or StatusCodes.Status206PartialContent or StatusCodes.Status304NotModified) return false;
            if (response.ContentLength < minSize) return false;
            foreach (var value in response.Headers.CacheControl)
            {
                if (value is not null && value.Contains("no-transform", StringComparison.OrdinalIgnoreCase)) return false;
            }
            return inner.ShouldCompressResponse(context);
        }
    }
}
