using System.Collections.Immutable;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Portway.Tests.Architecture;

/// <summary>
/// Which namespace of an assembly uses which, read from the compiled metadata and IL rather than
/// from <c>using</c> lines: base types and interfaces, field, method, property and local-variable
/// signatures, attributes, generic constraints, and every type, method and field token in method
/// bodies. So a fully qualified name, a type reached through its parent namespace without a using,
/// a lambda's closure and an async state machine all count. Nested and compiler-generated types
/// count for the namespace of their outermost declaring type. Constants are inlined by the
/// compiler and leave no trace in the assembly; the sources' using directives fill that gap
/// (a constant named with a fully qualified name and no using is the one thing still missed).
/// </summary>
internal sealed partial class NamespaceGraph
{
    private static readonly Dictionary<short, OperandType> Operands = typeof(OpCodes).GetFields()
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value, o => o.OperandType);

    private readonly MetadataReader _reader;
    private readonly PEReader _pe;

    /// <summary>namespace → namespace it uses → one example "Type → Type" for the message.</summary>
    public Dictionary<string, Dictionary<string, string>> Uses { get; } = new(StringComparer.Ordinal);

    private NamespaceGraph(PEReader pe)
    {
        _pe = pe;
        _reader = pe.GetMetadataReader();
    }

    /// <summary>
    /// The graph of <paramref name="assembly"/>, plus the <c>using</c> directives of the sources under
    /// <paramref name="sourceRoot"/>: a namespace used only for its constants (inlined, so invisible in
    /// the assembly) still shows through the using line that brings them in.
    /// </summary>
    public static NamespaceGraph Of(System.Reflection.Assembly assembly, string? sourceRoot = null)
    {
        using var stream = File.OpenRead(assembly.Location);
        using var pe = new PEReader(stream);
        var graph = new NamespaceGraph(pe);
        graph.Build();
        if (sourceRoot is not null) graph.AddUsingDirectives(sourceRoot);
        return graph;
    }

    private void AddUsingDirectives(string sourceRoot)
    {
        foreach (var file in Directory.EnumerateFiles(sourceRoot, "*.cs", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            if (FileNamespace().Match(text) is not { Success: true } declared) continue;
            var from = declared.Groups[1].Value;
            foreach (System.Text.RegularExpressions.Match m in UsingDirective().Matches(text))
            {
                var to = m.Groups[1].Value;
                if (to == from) continue;
                if (!Uses.TryGetValue(from, out var targets)) Uses[from] = targets = new(StringComparer.Ordinal);
                targets.TryAdd(to, $"{Path.GetFileName(file)}: using {to}");
            }
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^namespace\s+([\w.]+)\s*;", System.Text.RegularExpressions.RegexOptions.Multiline)]
    private static partial System.Text.RegularExpressions.Regex FileNamespace();

    // Using directives only (they end in ';' on their line), not using statements or declarations.
    [System.Text.RegularExpressions.GeneratedRegex(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?([\w.]+)\s*;", System.Text.RegularExpressions.RegexOptions.Multiline)]
    private static partial System.Text.RegularExpressions.Regex UsingDirective();

    private void Build()
    {
        foreach (var handle in _reader.TypeDefinitions)
        {
            var type = _reader.GetTypeDefinition(handle);
            var collector = new Collector(this);
            collector.Add(type.BaseType);
            foreach (var i in type.GetInterfaceImplementations()) collector.Add(_reader.GetInterfaceImplementation(i).Interface);
            Attributes(collector, type.GetCustomAttributes());
            Constraints(collector, type.GetGenericParameters());
            foreach (var f in type.GetFields())
            {
                var field = _reader.GetFieldDefinition(f);
                field.DecodeSignature(collector, null);
                Attributes(collector, field.GetCustomAttributes());
            }
            foreach (var p in type.GetProperties()) _reader.GetPropertyDefinition(p).DecodeSignature(collector, null);
            foreach (var m in type.GetMethods()) Method(collector, _reader.GetMethodDefinition(m));

            var from = Owner(handle);
            var fromName = _reader.GetString(type.Name);
            foreach (var (to, example) in collector.Found)
            {
                if (to == from) continue;
                if (!Uses.TryGetValue(from, out var targets)) Uses[from] = targets = new(StringComparer.Ordinal);
                targets.TryAdd(to, $"{TopName(handle, fromName)} → {example}");
            }
        }
    }

    private void Method(Collector collector, MethodDefinition method)
    {
        method.DecodeSignature(collector, null);
        Attributes(collector, method.GetCustomAttributes());
        Constraints(collector, method.GetGenericParameters());
        if (method.RelativeVirtualAddress == 0) return;
        var body = _pe.GetMethodBody(method.RelativeVirtualAddress);
        if (!body.LocalSignature.IsNil) _reader.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(collector, null);
        var il = body.GetILReader();
        while (il.RemainingBytes > 0)
        {
            short code = il.ReadByte();
            if (code == 0xFE) code = unchecked((short)(0xFE00 | il.ReadByte()));
            switch (Operands[code])
            {
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                case OperandType.InlineTok:
                case OperandType.InlineType:
                    collector.AddToken(il.ReadInt32());
                    break;
                case OperandType.InlineSwitch:
                    var targets = il.ReadInt32(); // read before the offset is: `Offset += 4 * ReadInt32()` would lose the read
                    il.Offset += 4 * targets;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    il.Offset += 8;
                    break;
                case OperandType.InlineBrTarget:
                case OperandType.InlineI:
                case OperandType.InlineSig:
                case OperandType.InlineString:
                case OperandType.ShortInlineR:
                    il.Offset += 4;
                    break;
                case OperandType.InlineVar:
                    il.Offset += 2;
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    il.Offset += 1;
                    break;
            }
        }
    }

    private void Attributes(Collector collector, CustomAttributeHandleCollection attributes)
    {
        foreach (var a in attributes) collector.AddMember(_reader.GetCustomAttribute(a).Constructor);
    }

    private void Constraints(Collector collector, GenericParameterHandleCollection parameters)
    {
        foreach (var p in parameters)
        {
            foreach (var c in _reader.GetGenericParameter(p).GetConstraints()) collector.Add(_reader.GetGenericParameterConstraint(c).Type);
        }
    }

    /// <summary>The namespace of the outermost type enclosing <paramref name="handle"/>.</summary>
    private string Owner(TypeDefinitionHandle handle)
    {
        var type = _reader.GetTypeDefinition(handle);
        while (type.IsNested) type = _reader.GetTypeDefinition(type.GetDeclaringType());
        return _reader.GetString(type.Namespace);
    }

    private string TopName(TypeDefinitionHandle handle, string fallback)
    {
        var type = _reader.GetTypeDefinition(handle);
        if (!type.IsNested) return fallback;
        while (type.IsNested) type = _reader.GetTypeDefinition(type.GetDeclaringType());
        return _reader.GetString(type.Name);
    }

    /// <summary>Collects the assembly's own types a signature or a token names; other assemblies' types are ignored.</summary>
    private sealed class Collector(NamespaceGraph graph) : ISignatureTypeProvider<int, object?>
    {
        private readonly MetadataReader _reader = graph._reader;

        /// <summary>Namespace → the first of its types found, for the message.</summary>
        public Dictionary<string, string> Found { get; } = new(StringComparer.Ordinal);

        public void Add(EntityHandle handle)
        {
            if (handle.IsNil) return;
            switch (handle.Kind)
            {
                case HandleKind.TypeDefinition:
                    var definition = (TypeDefinitionHandle)handle;
                    Found.TryAdd(graph.Owner(definition), graph.TopName(definition, _reader.GetString(_reader.GetTypeDefinition(definition).Name)));
                    break;
                case HandleKind.TypeSpecification:
                    _reader.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null);
                    break;
            }
        }

        public void AddMember(EntityHandle handle)
        {
            switch (handle.Kind)
            {
                case HandleKind.MethodDefinition:
                    Add(_reader.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.FieldDefinition:
                    Add(_reader.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.MemberReference:
                    var reference = _reader.GetMemberReference((MemberReferenceHandle)handle);
                    Add(reference.Parent);
                    if (reference.GetKind() == MemberReferenceKind.Method) reference.DecodeMethodSignature(this, null);
                    else reference.DecodeFieldSignature(this, null);
                    break;
                case HandleKind.MethodSpecification:
                    var specification = _reader.GetMethodSpecification((MethodSpecificationHandle)handle);
                    AddMember(specification.Method);
                    specification.DecodeSignature(this, null);
                    break;
                default:
                    Add(handle);
                    break;
            }
        }

        public void AddToken(int token) => AddMember(MetadataTokens.EntityHandle(token));

        public int GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            Add(handle);
            return 0;
        }

        public int GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind)
        {
            Add(handle);
            return 0;
        }

        public int GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => 0;
        public int GetArrayType(int elementType, ArrayShape shape) => 0;
        public int GetByReferenceType(int elementType) => 0;
        public int GetFunctionPointerType(MethodSignature<int> signature) => 0;
        public int GetGenericInstantiation(int genericType, ImmutableArray<int> typeArguments) => 0;
        public int GetGenericMethodParameter(object? genericContext, int index) => 0;
        public int GetGenericTypeParameter(object? genericContext, int index) => 0;
        public int GetModifiedType(int modifier, int unmodifiedType, bool isRequired) => 0;
        public int GetPinnedType(int elementType) => 0;
        public int GetPointerType(int elementType) => 0;
        public int GetPrimitiveType(PrimitiveTypeCode typeCode) => 0;
        public int GetSZArrayType(int elementType) => 0;
    }
}
