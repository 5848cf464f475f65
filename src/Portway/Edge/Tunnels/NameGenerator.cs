using System.Security.Cryptography;

namespace Portway.Edge.Tunnels;

/// <summary>
/// Random tunnel names like quiet-otter-3f9a: 64 adjectives × 64 nouns × 16 bits of hex = 2^28
/// names, drawn from a CSPRNG, so a URL cannot be guessed from another one. Readable enough to
/// say aloud; the hex keeps collisions rare without a long string.
/// </summary>
internal static class NameGenerator
{
    private static readonly string[] Adjectives =
    [
        "amber", "brave", "bright", "calm", "clever", "cosy", "crisp", "dapper", "eager", "early", "fancy", "fast",
        "fluffy", "gentle", "glad", "golden", "happy", "hazy", "humble", "jolly", "keen", "kind", "lively", "lucky",
        "mellow", "merry", "mighty", "misty", "modest", "neat", "nimble", "noble", "olive", "plucky", "polite", "proud",
        "quick", "quiet", "rapid", "rosy", "rustic", "shiny", "silent", "silver", "sleepy", "smooth", "snowy", "solar",
        "spry", "steady", "sunny", "swift", "tidy", "tiny", "tranquil", "upbeat", "vivid", "warm", "wild", "windy",
        "wise", "witty", "young", "zesty",
    ];

    private static readonly string[] Nouns =
    [
        "otter", "badger", "beaver", "bison", "crane", "dingo", "eagle", "falcon", "ferret", "finch", "fox", "gecko",
        "heron", "hippo", "ibis", "jackal", "koala", "lemur", "lynx", "magpie", "marmot", "mole", "moose", "newt",
        "ocelot", "orca", "osprey", "owl", "panda", "pelican", "penguin", "puffin", "quail", "rabbit", "raven", "robin",
        "salmon", "seal", "shrew", "sloth", "sparrow", "squid", "stoat", "swan", "tapir", "tiger", "toad", "trout",
        "turtle", "vole", "walrus", "weasel", "whale", "wolf", "wombat", "wren", "yak", "zebra", "bee", "cricket",
        "dolphin", "gull", "lark", "mink",
    ];

    public static string Next() =>
        $"{Adjectives[RandomNumberGenerator.GetInt32(Adjectives.Length)]}-{Nouns[RandomNumberGenerator.GetInt32(Nouns.Length)]}-{RandomNumberGenerator.GetInt32(0x10000):x4}";

    /// <summary>Whether <paramref name="name"/> has the shape <see cref="Next"/> produces (adjective-noun-4 hex).</summary>
    public static bool IsGenerated(string name)
    {
        var parts = name.Split('-');
        return parts is [var adjective, var noun, var hex] && Array.IndexOf(Adjectives, adjective) >= 0 && Array.IndexOf(Nouns, noun) >= 0
            && hex.Length == 4 && hex.All(static c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
    }
}
