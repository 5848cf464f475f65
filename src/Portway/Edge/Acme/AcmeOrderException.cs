namespace Portway.Edge.Acme;

/// <summary>An order that failed at the CA's side; <see cref="Problem"/> is the CA's own explanation when it gave one.</summary>
internal sealed class AcmeOrderException(string message, AcmeProblem? problem)
    : Exception(problem is null ? message : $"{message}: {problem.Type}: {problem.Detail}")
{
    public AcmeProblem? Problem { get; } = problem;
}
