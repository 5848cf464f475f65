using System.Text;
using Portway.Agent;
using Portway.Configuration;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Configuration;

/// <summary>
/// Whatever a config file holds, loading it ends in a config or a <see cref="ConfigException"/>
/// with file:line:column — never another exception (a reload runs on a timer thread, where one
/// would end the process). Golden files cover the named shapes; these tests cover the rest.
/// </summary>
public sealed class MalformedYamlTests
{
    private static readonly string Sample = File.ReadAllText(Path.Combine(ValidationGoldenTests.FindRepoRoot(), "samples", "full.yaml"));

    [Fact]
    public void Parse_EveryTruncationOfTheFullSample_ConfigOrLocatedError()
    {
        var rejected = 0;
        for (var length = 0; length <= Sample.Length; length++)
        {
            if (!LoadsOrFailsCleanly(Sample[..length], out var error)) rejected++;
            if (error is not null) Assert.Fail($"truncated to {length} chars: {error}");
        }
        // Most cuts break the file; a test that accepted everything would prove nothing.
        Assert.True(rejected > Sample.Length / 2, $"only {rejected} of {Sample.Length} truncations were rejected");
    }

    [Fact]
    public void Parse_SeededRandomMutationsOfTheFullSample_ConfigOrLocatedError()
    {
        var random = new Random(20261201);
        const string Tricky = "{}[]:,-#'\"\t\n &*!|>%@`?\\\0\u00e9\ufeff";
        for (var i = 0; i < 4000; i++)
        {
            var text = new StringBuilder(Sample);
            var edits = random.Next(1, 5);
            for (var e = 0; e < edits; e++) Mutate(text, random, Tricky);
            var mutated = text.ToString();
            LoadsOrFailsCleanly(mutated, out var error);
            if (error is not null) Assert.Fail($"mutation {i}: {error}\n--- input ---\n{mutated}");
        }
    }

    [Fact]
    public void Parse_RandomBytes_LocatedError()
    {
        var random = new Random(7);
        for (var i = 0; i < 300; i++)
        {
            var bytes = new byte[random.Next(1, 2000)];
            random.NextBytes(bytes);
            var text = Encoding.UTF8.GetString(bytes);
            LoadsOrFailsCleanly(text, out var error);
            if (error is not null) Assert.Fail($"random input {i}: {error}");
        }
    }

    [Theory]
    [InlineData('[', ']')]
    [InlineData('{', '}')]
    public void Parse_NestedThousandsDeep_RefusedNotStackOverflow(char open, char close)
    {
        // "routes:" is level 1; the first bracket (column 9) level 2, so level MaxDepth + 1 is column 8 + MaxDepth.
        var deep = "routes: " + new string(open, 20000) + new string(close, 20000) + "\n";
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(deep, "deep.yaml"));
        Assert.Equal($"deep.yaml:1:{8 + YamlFile.MaxDepth}: not valid here: nested more than {YamlFile.MaxDepth} levels deep", e.Errors.Single().ToString());
    }

    [Fact]
    public void Parse_BlockNestingThousandsDeep_Refused()
    {
        var text = new StringBuilder();
        for (var i = 0; i < 5000; i++) text.Append(' ', i).Append("k:\n");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text.ToString(), "deep.yaml"));
        Assert.Contains("nested more than", e.Errors.Single().Message);
    }

    [Fact]
    public void Parse_BracketsInsidePlainAndQuotedScalars_NotCountedAsNesting()
    {
        var text = Sample + "\n# " + new string('[', 200) + "\n";
        ConfigLoader.Parse(text, "full.yaml"); // a comment full of brackets is still a valid file
        var inScalar = "routes:\n  - id: web\n    match: { path: \"/" + new string('[', 100) + "\" }\n    cluster: app\nclusters:\n  - id: app\n    destinations: [http://127.0.0.1:1]\n";
        Assert.Equal("/" + new string('[', 100), ConfigLoader.Parse(inScalar, "q.yaml").Routes[0].Path);
    }

    [Fact]
    public void AgentParse_MutatedFile_ConfigOrLocatedError()
    {
        const string Agent = "edge: https://edge.example.com\ntoken: abc\ntunnels:\n  - { proto: http, addr: 3000, name: web }\n  - proto: tcp\n    addr: 5432\n";
        var random = new Random(3);
        for (var i = 0; i < 1000; i++)
        {
            var text = new StringBuilder(Agent);
            Mutate(text, random, "{}[]:,-#'\"\t\n &*");
            try
            {
                AgentConfigLoader.Parse(text.ToString(), "agent.yaml");
            }
            catch (ConfigException e)
            {
                Assert.All(e.Errors, x => Assert.True(x.Line >= 1 && x.Column >= 1, x.ToString()));
            }
        }
    }

    [Fact]
    public async Task Validate_UnclosedFlowMapping_LocatedErrorNoStackTrace()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "Golden", "validation", "unclosed-flow.yaml");
        var (exit, _, stderr) = await PortwayProcess.RunAsync("validate", file);
        Assert.Equal(1, exit);
        Assert.Equal($"{file}:4:3: not valid YAML: the '{{' at line 3, column 12 is never closed\n1 error(s)\n", stderr.ReplaceLineEndings("\n"));
    }

    private static bool LoadsOrFailsCleanly(string text, out string? unexpected)
    {
        unexpected = null;
        try
        {
            ConfigLoader.Parse(text, "full.yaml");
            return true;
        }
        catch (ConfigException e)
        {
            foreach (var x in e.Errors)
            {
                if (x.Line < 1 || x.Column < 1 || x.File != "full.yaml" || x.Message.Length == 0) unexpected = $"badly located error: {x}";
            }
            return false;
        }
        catch (Exception e)
        {
            unexpected = e.ToString();
            return false;
        }
    }

    private static void Mutate(StringBuilder text, Random random, string tricky)
    {
        if (text.Length == 0) { text.Append(tricky[random.Next(tricky.Length)]); return; }
        var at = random.Next(text.Length);
        switch (random.Next(6))
        {
            case 0: text.Remove(at, 1); break;
            case 1: text.Insert(at, tricky[random.Next(tricky.Length)]); break;
            case 2: text[at] = tricky[random.Next(tricky.Length)]; break;
            case 3: text[at] = (char)random.Next(0, 256); break;
            case 4:
                // Duplicate a line: duplicate keys, repeated list items.
                var start = at == 0 ? 0 : text.ToString().LastIndexOf('\n', at - 1) + 1;
                var end = text.ToString().IndexOf('\n', start);
                if (end < 0) end = text.Length;
                text.Insert(start, text.ToString(start, end - start) + "\n");
                break;
            default:
                // Shift a line's indentation.
                var lineStart = text.ToString().LastIndexOf('\n', at) + 1;
                if (random.Next(2) == 0) text.Insert(lineStart, ' ');
                else if (lineStart < text.Length && text[lineStart] == ' ') text.Remove(lineStart, 1);
                break;
        }
    }
}
