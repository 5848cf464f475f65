using System.Collections.Immutable;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Portway.Configuration;

/// <summary>
/// Reads a YAML (or JSON, which is YAML) config file into a <see cref="PortwayConfig"/>. Every
/// problem is collected with its file:line:column; nothing is applied unless the whole file is
/// valid. Sections are read by the *Section classes beside this one.
/// </summary>
internal static class ConfigLoader
{
    private static readonly string[] TopKeys =
        ["listeners", "admin", "routes", "clusters", "forwarded", "limits", "access_log", "tunnels", "tls", "cache"];

    public static PortwayConfig LoadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException([new ConfigError(path, 1, 1, "", $"cannot read the file: {e.Message}")]);
        }
        return Parse(text, path);
    }

    public static PortwayConfig Parse(string text, string file)
    {
        var context = new ConfigContext(file);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var message = (e.InnerException?.Message ?? e.Message).Replace(Environment.NewLine, " ");
            throw new ConfigException([new ConfigError(file, (int)e.Start.Line, (int)e.Start.Column, "", $"not valid YAML: {message}")]);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            return new PortwayConfig { Source = file };
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ConfigException([new ConfigError(file, 1, 1, "", $"the file must be a mapping with keys: {string.Join(", ", TopKeys)}")]);

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
        };
        ConfigValidator.CrossCheck(config, top, context);
        TlsSection.CrossCheck(config, top);
        if (context.Errors.Count > 0)
            throw new ConfigException(context.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList());
        return config;
    }
}
