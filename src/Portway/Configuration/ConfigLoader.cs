using System.Collections.Immutable;

namespace Portway.Configuration;

/// <summary>
/// Reads a YAML (or JSON, which is YAML) config file into a <see cref="PortwayConfig"/>. Every
/// problem is collected with its file:line:column; nothing is applied unless the whole file is
/// valid. Sections are read by the *Section classes beside this one.
/// </summary>
internal static class ConfigLoader
{
    private static readonly string[] TopKeys =
        ["listeners", "admin", "routes", "clusters", "forwarded", "limits", "access_log", "tunnels", "tls", "cache", "geo", "rules"];

    public static PortwayConfig LoadFile(string path) => Parse(YamlFile.ReadText(path), path);

    public static PortwayConfig Parse(string text, string file)
    {
        var context = new ConfigContext(file);
        if (YamlFile.LoadRoot(text, file, TopKeys) is not { } root) return new PortwayConfig { Source = file };

        var top = new YamlSection(context, root, "", TopKeys);
        var config = new PortwayConfig
        {
            Source = file,
            Listeners = top.Has("listeners") ? ListenersSection.Read(top) : [ListenerConfig.Default],
            Admin = ListenersSection.ReadAdmin(top),
            Routes = RoutesSection.Read(top),
            Clusters = ClustersSection.Read(top),
            Forwarded = ServerSection.ReadForwarded(top),
            Limits = ServerSection.ReadLimits(top),
            AccessLog = ServerSection.ReadAccessLog(top),
            Tunnels = TunnelsSection.Read(top),
            Tls = TlsSection.Read(top),
            Cache = CacheSection.Read(top),
            Geo = GeoSection.Read(top),
            Rules = RulesSection.Read(top),
        };
        ConfigValidator.CrossCheck(config, top, context);
        TlsSection.CrossCheck(config, top);
        GeoSection.CrossCheck(config, top, context);
        context.RunAfterLoad(config);
        if (context.Errors.Count > 0)
            throw new ConfigException(context.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList());
        return TlsSection.WithTunnelWildcards(config);
    }
}
