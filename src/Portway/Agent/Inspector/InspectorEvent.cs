namespace Portway.Agent.Inspector;

/// <summary>What the live page is told: a new entry, or that the list was cleared (<see cref="Entry"/> null).</summary>
internal readonly record struct InspectorEvent(CapturedExchange? Entry);
