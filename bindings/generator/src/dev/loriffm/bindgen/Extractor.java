package dev.loriffm.bindgen;

import dev.loriffm.bindgen.ArgFile.Kind;
import dev.loriffm.bindgen.ArgFile.Symbol;
import dev.loriffm.bindgen.Clang.Cursor;
import dev.loriffm.bindgen.Clang.Type;
import dev.loriffm.bindgen.Model.Alias;
import dev.loriffm.bindgen.Model.ArrayShape;
import dev.loriffm.bindgen.Model.Callback;
import dev.loriffm.bindgen.Model.Constant;
import dev.loriffm.bindgen.Model.Field;
import dev.loriffm.bindgen.Model.Function;
import dev.loriffm.bindgen.Model.Group;
import dev.loriffm.bindgen.Model.Member;
import dev.loriffm.bindgen.Model.Padding;
import dev.loriffm.bindgen.Model.Parameter;
import dev.loriffm.bindgen.Model.Record;
import dev.loriffm.bindgen.Model.RecordShape;
import dev.loriffm.bindgen.Model.Scalar;
import dev.loriffm.bindgen.Model.ScalarShape;
import dev.loriffm.bindgen.Model.Shape;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Parses one header group with libclang and extracts the {@link Model.Group} its argfile asks for.
 *
 * <p>Constants are evaluated by appending {@code __typeof__((NAME)) __lori_c_NAME = (NAME);} to a
 * synthetic translation unit that includes the wrapper header, so object-like macros and enum
 * constants are handled alike and each constant keeps the C type of its value.
 */
final class Extractor {
    private static final String CONSTANT_PREFIX = "__lori_c_";
    private static final Set<String> JAVA_KEYWORDS = Set.of(
            "abstract", "assert", "boolean", "break", "byte", "case", "catch", "char", "class", "const",
            "continue", "default", "do", "double", "else", "enum", "extends", "final", "finally", "float",
            "for", "goto", "if", "implements", "import", "instanceof", "int", "interface", "long", "native",
            "new", "package", "private", "protected", "public", "return", "short", "static", "strictfp",
            "super", "switch", "synchronized", "this", "throw", "throws", "transient", "try", "void",
            "volatile", "while", "true", "false", "null", "var", "record", "yield", "sealed", "permits");

    private final Clang clang;
    private final List<String> extraClangArgs;

    Extractor(Clang clang, List<String> extraClangArgs) {
        this.clang = clang;
        this.extraClangArgs = extraClangArgs;
    }

    Group extract(ArgFile argFile, Path workDir) throws IOException {
        Path main = workDir.resolve(argFile.headerClass() + ".c");
        StringBuilder source = new StringBuilder();
        source.append("#include \"").append(argFile.header().toAbsolutePath()).append("\"\n");
        for (Symbol symbol : argFile.symbols()) {
            if (symbol.kind() == Kind.CONSTANT) {
                source.append("__typeof__((").append(symbol.name()).append(")) ").append(CONSTANT_PREFIX)
                        .append(symbol.name()).append(" = (").append(symbol.name()).append(");\n");
            }
        }
        Files.writeString(main, source, StandardCharsets.UTF_8);
        List<String> args = new ArrayList<>(List.of("-std=gnu11", "-ferror-limit=0"));
        args.addAll(extraClangArgs);
        args.addAll(argFile.clangArgs());
        MemorySegment index = clang.createIndex();
        try {
            MemorySegment tu = clang.parse(main, args, index);
            try {
                return extract(argFile, tu, main);
            } finally {
                clang.disposeTranslationUnit(tu);
            }
        } finally {
            clang.disposeIndex(index);
        }
    }

    private Group extract(ArgFile argFile, MemorySegment tu, Path main) {
        Map<String, Cursor> functions = new HashMap<>();
        Map<String, Cursor> structs = new HashMap<>();
        Map<String, Cursor> unions = new HashMap<>();
        Map<String, Cursor> typedefs = new HashMap<>();
        Map<String, Cursor> constants = new HashMap<>();
        for (Cursor cursor : clang.children(clang.translationUnitCursor(tu))) {
            String name = clang.spelling(cursor);
            switch (cursor.kind()) {
                case Clang.CURSOR_FUNCTION_DECL -> functions.putIfAbsent(name, cursor);
                case Clang.CURSOR_STRUCT_DECL -> {
                    if (clang.isDefinition(cursor)) {
                        structs.putIfAbsent(name, cursor);
                    }
                }
                case Clang.CURSOR_UNION_DECL -> {
                    if (clang.isDefinition(cursor)) {
                        unions.putIfAbsent(name, cursor);
                    }
                }
                case Clang.CURSOR_TYPEDEF_DECL -> typedefs.putIfAbsent(name, cursor);
                case Clang.CURSOR_VAR_DECL -> {
                    if (name.startsWith(CONSTANT_PREFIX)) {
                        constants.put(name.substring(CONSTANT_PREFIX.length()), cursor);
                    }
                }
                default -> { }
            }
        }
        List<Function> outFunctions = new ArrayList<>();
        List<Record> outRecords = new ArrayList<>();
        List<Callback> outCallbacks = new ArrayList<>();
        List<Alias> outAliases = new ArrayList<>();
        List<Constant> outConstants = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        Set<String> boundRecords = new HashSet<>();
        for (Symbol symbol : argFile.symbols()) {
            String where = argFile.source().getFileName() + ":" + symbol.line() + ": " + symbol.name();
            switch (symbol.kind()) {
                case FUNCTION -> {
                    Cursor decl = functions.get(symbol.name());
                    if (decl == null) {
                        missing.add(where + " (no function declaration: a macro, or not in these headers)");
                    } else {
                        outFunctions.add(function(decl, symbol, where));
                    }
                }
                case STRUCT, UNION -> {
                    Cursor decl = (symbol.kind() == Kind.STRUCT ? structs : unions).get(symbol.name());
                    if (decl == null) {
                        missing.add(where + " (no " + symbol.kind().name().toLowerCase() + " definition)");
                    } else {
                        outRecords.add(record(decl, symbol.name(), symbol.kind() == Kind.UNION, where));
                        boundRecords.add(symbol.name());
                    }
                }
                case TYPEDEF -> {
                    Cursor decl = typedefs.get(symbol.name());
                    if (decl == null) {
                        missing.add(where + " (no typedef)");
                    } else {
                        typedef(decl, symbol.name(), where, boundRecords, outCallbacks, outAliases);
                    }
                }
                case CONSTANT -> {
                    Cursor decl = constants.get(symbol.name());
                    if (decl == null) {
                        missing.add(where + " (constant probe missing)");
                    } else {
                        outConstants.add(constant(decl, symbol.name(), where));
                    }
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("symbols not found:\n  " + String.join("\n  ", missing));
        }
        // Files under the config folder are recorded relative to it, so the record does not depend
        // on where the repository is checked out.
        Path configDir = argFile.source().toAbsolutePath().normalize().getParent();
        Set<String> inputs = new TreeSet<>();
        for (String name : clang.inclusions(tu)) {
            Path file = Path.of(name).toAbsolutePath().normalize();
            if (!file.equals(main.toAbsolutePath().normalize())) {
                inputs.add(file.startsWith(configDir)
                        ? "jextract-config/" + configDir.relativize(file) : file.toString());
            }
        }
        String headerName = argFile.header().getFileName().toString();
        return new Group(argFile, headerName, outFunctions, outRecords, outCallbacks, outAliases, outConstants,
                List.copyOf(inputs));
    }

    private Function function(Cursor decl, Symbol symbol, String where) {
        Type type = clang.type(decl);
        Type canonical = clang.canonical(type);
        if (canonical.kind() != Clang.TYPE_FUNCTION_PROTO) {
            throw new IllegalStateException(where + ": not a prototyped function");
        }
        boolean variadic = clang.isVariadic(canonical);
        if (variadic != symbol.options().variadic()) {
            throw new IllegalStateException(where + (variadic
                    ? ": is variadic; say variadic(T,...) in its comment"
                    : ": is not variadic; drop variadic(...)"));
        }
        List<String> names = parameterNames(decl);
        List<Parameter> parameters = new ArrayList<>();
        StringBuilder c = new StringBuilder();
        Type result = clang.result(type);
        c.append(clang.spelling(result)).append(' ').append(symbol.name()).append('(');
        int count = clang.argCount(type);
        Set<String> used = new HashSet<>();
        for (int i = 0; i < count; i++) {
            Type arg = clang.arg(type, i);
            String cName = i < names.size() ? names.get(i) : "";
            parameters.add(new Parameter(javaName(cName, i, used), scalar(arg, where + " parameter " + i), false));
            c.append(i == 0 ? "" : ", ").append(clang.spelling(arg)).append(cName.isEmpty() ? "" : " " + cName);
        }
        if (variadic) {
            c.append(", ...");
            List<String> extra = symbol.options().variadicTypes();
            for (int i = 0; i < extra.size(); i++) {
                Scalar s = switch (extra.get(i)) {
                    case "int" -> Scalar.INT;
                    case "long" -> Scalar.LONG;
                    default -> Scalar.POINTER;
                };
                parameters.add(new Parameter(javaName("vararg" + i, count + i, used), s, true));
            }
        }
        c.append(')');
        Scalar resultScalar = clang.canonical(result).kind() == Clang.TYPE_VOID ? null : scalar(result, where + " result");
        return new Function(symbol.name(), resultScalar, parameters, symbol.options(), c.toString());
    }

    private List<String> parameterNames(Cursor decl) {
        List<String> names = new ArrayList<>();
        for (Cursor child : clang.children(decl)) {
            if (child.kind() == Clang.CURSOR_PARM_DECL) {
                names.add(clang.spelling(child));
            }
        }
        return names;
    }

    private static String javaName(String cName, int index, Set<String> used) {
        String name = cName.replaceFirst("^_+", "");
        if (name.isEmpty() || JAVA_KEYWORDS.contains(name) || used.contains(name)) {
            name = name.isEmpty() ? "x" + index : name + "_";
        }
        while (!used.add(name)) {
            name = name + "_";
        }
        return name;
    }

    static String fieldName(String cName) {
        return JAVA_KEYWORDS.contains(cName) ? cName + "_" : cName;
    }

    private Scalar scalar(Type type, String where) {
        Type canonical = clang.canonical(type);
        int kind = canonical.kind();
        return switch (kind) {
            case Clang.TYPE_BOOL -> Scalar.BOOL;
            case 4, 5, 13, 14 -> Scalar.CHAR;
            case 8, 16 -> Scalar.SHORT;
            case 9, 17 -> Scalar.INT;
            case 10, 18 -> Scalar.LONG;
            case 11, 19 -> Scalar.LONG_LONG;
            case Clang.TYPE_FLOAT -> Scalar.FLOAT;
            case Clang.TYPE_DOUBLE -> Scalar.DOUBLE;
            // Array parameters decay to pointers; libclang reports them as declared.
            case Clang.TYPE_POINTER, Clang.TYPE_INCOMPLETE_ARRAY, Clang.TYPE_CONSTANT_ARRAY -> Scalar.POINTER;
            case Clang.TYPE_RECORD -> {
                // glibc passes sockaddr arguments as a transparent union of pointers under _GNU_SOURCE
                // (__SOCKADDR_ARG); a pointer-sized union of pointers is passed exactly as a pointer.
                if (isUnionOfPointers(canonical)) {
                    yield Scalar.POINTER;
                }
                throw new IllegalStateException(where + ": records passed by value are not supported ('"
                        + clang.spelling(type) + "')");
            }
            case Clang.TYPE_ENUM -> switch ((int) clang.sizeOf(canonical)) {
                case 4 -> Scalar.INT;
                case 8 -> Scalar.LONG;
                default -> throw new IllegalStateException(where + ": enum of unsupported size");
            };
            default -> throw new IllegalStateException(where + ": unsupported C type '"
                    + clang.spelling(type) + "' (kind " + kind + ") in a signature");
        };
    }

    private boolean isUnionOfPointers(Type canonical) {
        Cursor decl = clang.declaration(canonical);
        if (decl.kind() != Clang.CURSOR_UNION_DECL || clang.sizeOf(canonical) != Scalar.POINTER.size) {
            return false;
        }
        boolean any = false;
        for (Cursor child : clang.children(decl)) {
            if (child.kind() == Clang.CURSOR_FIELD_DECL) {
                if (clang.canonical(clang.type(child)).kind() != Clang.TYPE_POINTER) {
                    return false;
                }
                any = true;
            }
        }
        return any;
    }

    private Record record(Cursor decl, String name, boolean union, String where) {
        Type type = clang.canonical(clang.type(decl));
        long alignment = clang.alignOf(type);
        List<String> lines = new ArrayList<>();
        RecordShape shape = recordShape(decl, type, alignment, where, lines);
        return new Record(name, union, shape.size(), alignment, shape, lines);
    }

    /**
     * Lays out a record as the C compiler does: members at clang's offsets, padding for gaps and
     * bit-fields, and every member's alignment capped by {@code cap} so packed records (such as
     * {@code struct epoll_event} on x86-64) get the same offsets in Java.
     */
    private RecordShape recordShape(Cursor decl, Type type, long cap, String where, List<String> cLines) {
        boolean union = decl.kind() == Clang.CURSOR_UNION_DECL;
        long size = clang.sizeOf(type);
        long recordCap = Math.min(cap, clang.alignOf(type));
        List<Member> members = new ArrayList<>();
        long position = 0;
        long widest = 0;
        for (Cursor child : clang.children(decl)) {
            if (child.kind() != Clang.CURSOR_FIELD_DECL) {
                continue;
            }
            String fieldName = clang.spelling(child);
            Type fieldType = clang.type(child);
            if (clang.isBitField(child)) {
                if (cLines != null) {
                    cLines.add(clang.spelling(fieldType) + " " + fieldName + " : " + clang.bitWidth(child)
                            + "; // bit-field: padding in Java");
                }
                continue;
            }
            if (fieldName.isEmpty()) {
                throw new IllegalStateException(where + ": anonymous members are not supported");
            }
            long fieldSize = clang.sizeOf(fieldType);
            if (clang.canonical(fieldType).kind() == Clang.TYPE_INCOMPLETE_ARRAY || fieldSize < 0) {
                if (cLines != null) {
                    cLines.add(clang.spelling(fieldType) + " " + fieldName + "; // flexible array: not bound");
                }
                continue;
            }
            long offsetBits = clang.fieldOffsetBits(child);
            if (offsetBits < 0 || offsetBits % 8 != 0) {
                throw new IllegalStateException(where + ": field " + fieldName + " is not byte-aligned");
            }
            long offset = offsetBits / 8;
            if (!union && offset > position) {
                members.add(new Padding(offset - position, "gap"));
            }
            long memberCap = offset == 0 ? recordCap : Math.min(recordCap, Long.lowestOneBit(offset));
            String cDeclaration = cDeclaration(fieldType, fieldName);
            members.add(new Field(fieldName, offset, fieldSize, shape(fieldType, memberCap, where + "." + fieldName),
                    cDeclaration));
            if (cLines != null) {
                cLines.add(cDeclaration + ";");
            }
            position = offset + fieldSize;
            widest = Math.max(widest, fieldSize);
        }
        if (!union && size > position) {
            members.add(new Padding(size - position, "tail"));
        }
        if (union && size > widest) {
            members.add(new Padding(size, "tail"));
        }
        return new RecordShape(union, size, members);
    }

    private String cDeclaration(Type type, String name) {
        Type canonical = clang.canonical(type);
        if (canonical.kind() == Clang.TYPE_CONSTANT_ARRAY) {
            StringBuilder dims = new StringBuilder();
            Type element = type;
            while (clang.canonical(element).kind() == Clang.TYPE_CONSTANT_ARRAY) {
                dims.append('[').append(clang.arraySize(clang.canonical(element))).append(']');
                element = clang.arrayElement(clang.canonical(element));
            }
            return clang.spelling(element) + " " + name + dims;
        }
        return clang.spelling(type) + " " + name;
    }

    private Shape shape(Type type, long cap, String where) {
        Type canonical = clang.canonical(type);
        return switch (canonical.kind()) {
            case Clang.TYPE_RECORD -> recordShape(clang.declaration(canonical), canonical, cap, where, null);
            case Clang.TYPE_CONSTANT_ARRAY -> new ArrayShape(clang.arraySize(canonical),
                    shape(clang.arrayElement(canonical), cap, where));
            default -> {
                Scalar scalar = scalar(type, where);
                yield new ScalarShape(scalar, Math.min(scalar.size, cap));
            }
        };
    }

    private void typedef(Cursor decl, String name, String where, Set<String> boundRecords,
                         List<Callback> callbacks, List<Alias> aliases) {
        Type underlying = clang.typedefUnderlying(decl);
        Type canonical = clang.canonical(underlying);
        String cDeclaration = "typedef " + clang.spelling(underlying) + " " + name;
        // Either a function-pointer typedef (SSL_verify_cb) or a function-type typedef used through
        // a pointer (OpenSSL's pem_password_cb): both become an upcall class.
        boolean functionPointer = canonical.kind() == Clang.TYPE_POINTER
                && clang.canonical(clang.pointee(canonical)).kind() == Clang.TYPE_FUNCTION_PROTO;
        if (functionPointer || canonical.kind() == Clang.TYPE_FUNCTION_PROTO) {
            Type fn = functionPointer ? clang.pointee(canonical) : canonical;
            List<String> names = parameterNames(decl);
            List<Parameter> parameters = new ArrayList<>();
            Set<String> used = new HashSet<>();
            for (int i = 0; i < clang.argCount(fn); i++) {
                String cName = i < names.size() ? names.get(i) : "";
                parameters.add(new Parameter(javaName(cName, i, used), scalar(clang.arg(fn, i), where), false));
            }
            Type result = clang.result(fn);
            Scalar resultScalar = clang.canonical(result).kind() == Clang.TYPE_VOID ? null : scalar(result, where);
            StringBuilder c = new StringBuilder("typedef ").append(clang.spelling(result))
                    .append(functionPointer ? " (*" + name + ")(" : " " + name + "(");
            for (int i = 0; i < clang.argCount(fn); i++) {
                String cName = i < names.size() ? names.get(i) : "";
                c.append(i == 0 ? "" : ", ").append(clang.spelling(clang.arg(fn, i)))
                        .append(cName.isEmpty() ? "" : " " + cName);
            }
            callbacks.add(new Callback(name, resultScalar, parameters, c.append(')').toString()));
        } else if (canonical.kind() == Clang.TYPE_RECORD) {
            String recordName = clang.spelling(clang.declaration(canonical));
            if (!boundRecords.contains(recordName)) {
                throw new IllegalStateException(where + ": bind " + recordName + " before its typedef");
            }
            aliases.add(new Alias(name, null, recordName, cDeclaration));
        } else {
            aliases.add(new Alias(name, scalar(underlying, where), null, cDeclaration));
        }
    }

    private Constant constant(Cursor decl, String name, String where) {
        Type type = clang.canonical(clang.type(decl));
        Scalar scalar = switch (type.kind()) {
            case Clang.TYPE_POINTER, Clang.TYPE_CONSTANT_ARRAY, Clang.TYPE_FLOAT, Clang.TYPE_DOUBLE ->
                    throw new IllegalStateException(where + ": only integer constants are supported, this is "
                            + clang.spelling(type));
            default -> scalar(type, where);
        };
        long value = clang.evaluateInteger(decl, where);
        return new Constant(name, scalar, clang.spelling(type), value);
    }
}
