using Portway.Configuration;

namespace Portway.Edge.Settings;

/// <summary>Turns a rule's config into its compiled <see cref="Rule"/>: the rule kinds' registry (Edge/Rules/RuleKinds), above this folder.</summary>
internal interface IRuleCompiler
{
    Rule Compile(RuleConfig config);
}
