using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using Portway.Configuration;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// The one registry of rule kinds. Adding a kind: its class (a <see cref="RuleKind{TConfig}"/>)
/// and one line in <see cref="All"/>. The loader reads <c>rules:</c> lists with these
/// (<see cref="RuleCatalog"/>), and <c>ProxyConfigMapper</c> compiles them with <see cref="Compiler"/>.
/// </summary>
internal sealed class RuleKinds : IRuleCompiler
{
    /// <summary>In the order docs/policy.md lists them; the order in a config is the config's.</summary>
    public static readonly IRuleKind[] All =
    [
        new IpRule(),
        new GeoRule(),
        new RateLimitRule(),
        new BasicAuthRule(),
        new JwtRule(),
        new ForwardAuthRule(),
        new OidcRule(),
        new HeadersRule(),
        new RespondRule(),
        new RedirectRule(),
        new RewriteRule(),
        new SecurityHeadersRule(),
        new WebhookVerifyRule(),
        new CorsRule(),
        new CompressRule(),
        new CircuitBreakerRule(),
    ];

    /// <summary>For settings built outside an edge (tests of the config model); an edge has its own (<see cref="RuleKinds(RuleServices)"/>).</summary>
    public static readonly RuleKinds Detached = new(RuleServices.Detached);

    private readonly RuleServices _services;

    public RuleKinds(RuleServices services) => _services = services;

    private static readonly FrozenDictionary<string, IRuleKind> s_byName = All.ToFrozenDictionary(k => k.Name, StringComparer.Ordinal);

    public Rule Compile(RuleConfig config) => s_byName[config.Kind].Compile(config, _services);

    /// <summary>
    /// Configuration sits below the edge's folders and cannot name the kinds; this hands them to
    /// the loader before any other code of the assembly runs, so every parse knows them.
    /// </summary>
#pragma warning disable CA2255 // one executable: the module is the application, not a library
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RegisterWithLoader() => RuleCatalog.Register(All);
}
