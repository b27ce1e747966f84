package dev.loriffm.bindgen;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libclang C API subset the generator needs, bound by hand with FFM.
 *
 * <p>This is the one place in the project where FFM layouts are written by hand: the generator
 * cannot generate its own libclang bindings before it can parse headers (a bootstrap), and the
 * libclang-14-dev headers are not needed at run time. The layouts below are those of
 * {@code clang-c/Index.h} on LP64 Linux and are stable across libclang versions.
 *
 * <p>Not thread-safe: one instance per generator run, used from the main thread.
 */
final class Clang implements AutoCloseable {

    /** {@code typedef struct { enum CXCursorKind kind; int xdata; const void *data[3]; } CXCursor;} */
    static final StructLayout CX_CURSOR = MemoryLayout.structLayout(
            JAVA_INT.withName("kind"), JAVA_INT.withName("xdata"),
            MemoryLayout.sequenceLayout(3, ADDRESS).withName("data"));
    /** {@code typedef struct { enum CXTypeKind kind; void *data[2]; } CXType;} */
    static final StructLayout CX_TYPE = MemoryLayout.structLayout(
            JAVA_INT.withName("kind"), MemoryLayout.paddingLayout(4),
            MemoryLayout.sequenceLayout(2, ADDRESS).withName("data"));
    /** {@code typedef struct { const void *data; unsigned private_flags; } CXString;} */
    static final StructLayout CX_STRING = MemoryLayout.structLayout(
            ADDRESS.withName("data"), JAVA_INT.withName("private_flags"), MemoryLayout.paddingLayout(4));
    /** {@code typedef struct { const void *ptr_data[2]; unsigned int_data; } CXSourceLocation;} */
    static final StructLayout CX_SOURCE_LOCATION = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(2, ADDRESS).withName("ptr_data"),
            JAVA_INT.withName("int_data"), MemoryLayout.paddingLayout(4));
    /** {@code struct CXUnsavedFile { const char *Filename; const char *Contents; unsigned long Length; };} */
    static final StructLayout CX_UNSAVED_FILE = MemoryLayout.structLayout(
            ADDRESS.withName("Filename"), ADDRESS.withName("Contents"), JAVA_LONG.withName("Length"));

    static final int CURSOR_STRUCT_DECL = 2;
    static final int CURSOR_UNION_DECL = 3;
    static final int CURSOR_ENUM_DECL = 5;
    static final int CURSOR_FIELD_DECL = 6;
    static final int CURSOR_ENUM_CONSTANT_DECL = 7;
    static final int CURSOR_FUNCTION_DECL = 8;
    static final int CURSOR_VAR_DECL = 9;
    static final int CURSOR_PARM_DECL = 10;
    static final int CURSOR_TYPEDEF_DECL = 20;

    static final int TYPE_VOID = 2;
    static final int TYPE_BOOL = 3;
    static final int TYPE_FLOAT = 21;
    static final int TYPE_DOUBLE = 22;
    static final int TYPE_POINTER = 101;
    static final int TYPE_RECORD = 105;
    static final int TYPE_ENUM = 106;
    static final int TYPE_FUNCTION_NO_PROTO = 110;
    static final int TYPE_FUNCTION_PROTO = 111;
    static final int TYPE_CONSTANT_ARRAY = 112;
    static final int TYPE_INCOMPLETE_ARRAY = 114;

    static final int EVAL_INT = 1;

    static final int PARSE_SKIP_FUNCTION_BODIES = 0x40;

    private static final int VISIT_CONTINUE = 1;
    private static final Linker LINKER = Linker.nativeLinker();

    private final Arena arena = Arena.ofConfined();
    private final SymbolLookup lookup;
    private final MethodHandle createIndex;
    private final MethodHandle disposeIndex;
    private final MethodHandle parseTranslationUnit;
    private final MethodHandle disposeTranslationUnit;
    private final MethodHandle getNumDiagnostics;
    private final MethodHandle getDiagnostic;
    private final MethodHandle getDiagnosticSeverity;
    private final MethodHandle formatDiagnostic;
    private final MethodHandle disposeDiagnostic;
    private final MethodHandle getTranslationUnitCursor;
    private final MethodHandle visitChildren;
    private final MethodHandle getCursorSpelling;
    private final MethodHandle getCursorType;
    private final MethodHandle getTypedefDeclUnderlyingType;
    private final MethodHandle isBitField;
    private final MethodHandle getFieldDeclBitWidth;
    private final MethodHandle getCanonicalType;
    private final MethodHandle getPointeeType;
    private final MethodHandle getResultType;
    private final MethodHandle getNumArgTypes;
    private final MethodHandle getArgType;
    private final MethodHandle isFunctionTypeVariadic;
    private final MethodHandle getArrayElementType;
    private final MethodHandle getArraySize;
    private final MethodHandle typeGetSizeOf;
    private final MethodHandle typeGetAlignOf;
    private final MethodHandle cursorGetOffsetOfField;
    private final MethodHandle getTypeDeclaration;
    private final MethodHandle getTypeSpelling;
    private final MethodHandle isCursorDefinition;
    private final MethodHandle cursorEvaluate;
    private final MethodHandle evalGetKind;
    private final MethodHandle evalIsUnsigned;
    private final MethodHandle evalGetAsLongLong;
    private final MethodHandle evalGetAsUnsigned;
    private final MethodHandle evalDispose;
    private final MethodHandle getCursorLocation;
    private final MethodHandle getSpellingLocation;
    private final MethodHandle getFileName;
    private final MethodHandle getClangVersion;
    private final MethodHandle getInclusions;
    private final MethodHandle getCString;
    private final MethodHandle disposeString;
    private final MemorySegment childVisitorStub;
    private final MemorySegment inclusionVisitorStub;
    // The visitors append here; set before each clang_visitChildren / clang_getInclusions call.
    private List<Cursor> visitSink;
    private List<String> inclusionSink;

    /** A cursor copied into the generator's arena; valid until {@link #close()}. */
    record Cursor(MemorySegment segment) {
        int kind() {
            return segment.get(JAVA_INT, 0);
        }
    }

    /** A type copied into the generator's arena; valid until {@link #close()}. */
    record Type(MemorySegment segment) {
        int kind() {
            return segment.get(JAVA_INT, 0);
        }
    }

    Clang(Path library) {
        lookup = SymbolLookup.libraryLookup(library, arena);
        AddressLayout ptr = ADDRESS;
        createIndex = handle("clang_createIndex", FunctionDescriptor.of(ptr, JAVA_INT, JAVA_INT));
        disposeIndex = handle("clang_disposeIndex", FunctionDescriptor.ofVoid(ptr));
        parseTranslationUnit = handle("clang_parseTranslationUnit",
                FunctionDescriptor.of(ptr, ptr, ptr, ptr, JAVA_INT, ptr, JAVA_INT, JAVA_INT));
        disposeTranslationUnit = handle("clang_disposeTranslationUnit", FunctionDescriptor.ofVoid(ptr));
        getNumDiagnostics = handle("clang_getNumDiagnostics", FunctionDescriptor.of(JAVA_INT, ptr));
        getDiagnostic = handle("clang_getDiagnostic", FunctionDescriptor.of(ptr, ptr, JAVA_INT));
        getDiagnosticSeverity = handle("clang_getDiagnosticSeverity", FunctionDescriptor.of(JAVA_INT, ptr));
        formatDiagnostic = handle("clang_formatDiagnostic", FunctionDescriptor.of(CX_STRING, ptr, JAVA_INT));
        disposeDiagnostic = handle("clang_disposeDiagnostic", FunctionDescriptor.ofVoid(ptr));
        getTranslationUnitCursor = handle("clang_getTranslationUnitCursor", FunctionDescriptor.of(CX_CURSOR, ptr));
        visitChildren = handle("clang_visitChildren", FunctionDescriptor.of(JAVA_INT, CX_CURSOR, ptr, ptr));
        getCursorSpelling = handle("clang_getCursorSpelling", FunctionDescriptor.of(CX_STRING, CX_CURSOR));
        getCursorType = handle("clang_getCursorType", FunctionDescriptor.of(CX_TYPE, CX_CURSOR));
        getTypedefDeclUnderlyingType = handle("clang_getTypedefDeclUnderlyingType",
                FunctionDescriptor.of(CX_TYPE, CX_CURSOR));
        isBitField = handle("clang_Cursor_isBitField", FunctionDescriptor.of(JAVA_INT, CX_CURSOR));
        getFieldDeclBitWidth = handle("clang_getFieldDeclBitWidth", FunctionDescriptor.of(JAVA_INT, CX_CURSOR));
        getCanonicalType = handle("clang_getCanonicalType", FunctionDescriptor.of(CX_TYPE, CX_TYPE));
        getPointeeType = handle("clang_getPointeeType", FunctionDescriptor.of(CX_TYPE, CX_TYPE));
        getResultType = handle("clang_getResultType", FunctionDescriptor.of(CX_TYPE, CX_TYPE));
        getNumArgTypes = handle("clang_getNumArgTypes", FunctionDescriptor.of(JAVA_INT, CX_TYPE));
        getArgType = handle("clang_getArgType", FunctionDescriptor.of(CX_TYPE, CX_TYPE, JAVA_INT));
        isFunctionTypeVariadic = handle("clang_isFunctionTypeVariadic", FunctionDescriptor.of(JAVA_INT, CX_TYPE));
        getArrayElementType = handle("clang_getArrayElementType", FunctionDescriptor.of(CX_TYPE, CX_TYPE));
        getArraySize = handle("clang_getArraySize", FunctionDescriptor.of(JAVA_LONG, CX_TYPE));
        typeGetSizeOf = handle("clang_Type_getSizeOf", FunctionDescriptor.of(JAVA_LONG, CX_TYPE));
        typeGetAlignOf = handle("clang_Type_getAlignOf", FunctionDescriptor.of(JAVA_LONG, CX_TYPE));
        cursorGetOffsetOfField = handle("clang_Cursor_getOffsetOfField", FunctionDescriptor.of(JAVA_LONG, CX_CURSOR));
        getTypeDeclaration = handle("clang_getTypeDeclaration", FunctionDescriptor.of(CX_CURSOR, CX_TYPE));
        getTypeSpelling = handle("clang_getTypeSpelling", FunctionDescriptor.of(CX_STRING, CX_TYPE));
        isCursorDefinition = handle("clang_isCursorDefinition", FunctionDescriptor.of(JAVA_INT, CX_CURSOR));
        cursorEvaluate = handle("clang_Cursor_Evaluate", FunctionDescriptor.of(ptr, CX_CURSOR));
        evalGetKind = handle("clang_EvalResult_getKind", FunctionDescriptor.of(JAVA_INT, ptr));
        evalIsUnsigned = handle("clang_EvalResult_isUnsignedInt", FunctionDescriptor.of(JAVA_INT, ptr));
        evalGetAsLongLong = handle("clang_EvalResult_getAsLongLong", FunctionDescriptor.of(JAVA_LONG, ptr));
        evalGetAsUnsigned = handle("clang_EvalResult_getAsUnsigned", FunctionDescriptor.of(JAVA_LONG, ptr));
        evalDispose = handle("clang_EvalResult_dispose", FunctionDescriptor.ofVoid(ptr));
        getCursorLocation = handle("clang_getCursorLocation", FunctionDescriptor.of(CX_SOURCE_LOCATION, CX_CURSOR));
        getSpellingLocation = handle("clang_getSpellingLocation",
                FunctionDescriptor.ofVoid(CX_SOURCE_LOCATION, ptr, ptr, ptr, ptr));
        getFileName = handle("clang_getFileName", FunctionDescriptor.of(CX_STRING, ptr));
        getClangVersion = handle("clang_getClangVersion", FunctionDescriptor.of(CX_STRING));
        getInclusions = handle("clang_getInclusions", FunctionDescriptor.ofVoid(ptr, ptr, ptr));
        getCString = handle("clang_getCString", FunctionDescriptor.of(ptr, CX_STRING));
        disposeString = handle("clang_disposeString", FunctionDescriptor.ofVoid(CX_STRING));
        try {
            MethodHandles.Lookup self = MethodHandles.lookup();
            childVisitorStub = LINKER.upcallStub(
                    self.findVirtual(Clang.class, "onChild",
                            MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class,
                                    MemorySegment.class)).bindTo(this),
                    FunctionDescriptor.of(JAVA_INT, CX_CURSOR, CX_CURSOR, ptr), arena);
            inclusionVisitorStub = LINKER.upcallStub(
                    self.findVirtual(Clang.class, "onInclusion",
                            MethodType.methodType(void.class, MemorySegment.class, MemorySegment.class,
                                    int.class, MemorySegment.class)).bindTo(this),
                    FunctionDescriptor.ofVoid(ptr, ptr, JAVA_INT, ptr), arena);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create libclang visitor upcall", e);
        }
    }

    private MethodHandle handle(String name, FunctionDescriptor descriptor) {
        MemorySegment address = lookup.find(name)
                .orElseThrow(() -> new IllegalStateException("libclang lacks " + name));
        return LINKER.downcallHandle(address, descriptor);
    }

    private int onChild(MemorySegment cursor, MemorySegment parent, MemorySegment data) {
        visitSink.add(new Cursor(arena.allocate(CX_CURSOR).copyFrom(cursor)));
        return VISIT_CONTINUE;
    }

    private void onInclusion(MemorySegment file, MemorySegment stack, int depth, MemorySegment data) {
        inclusionSink.add(fileName(file));
    }

    /** Parses {@code source} with the given arguments; fails on any error diagnostic. */
    MemorySegment parse(Path source, List<String> args, MemorySegment index) {
        MemorySegment argv = arena.allocate(ADDRESS, Math.max(1, args.size()));
        for (int i = 0; i < args.size(); i++) {
            argv.setAtIndex(ADDRESS, i, arena.allocateFrom(args.get(i)));
        }
        MemorySegment tu = (MemorySegment) invoke(parseTranslationUnit, index,
                arena.allocateFrom(source.toString()), argv, args.size(), MemorySegment.NULL, 0,
                PARSE_SKIP_FUNCTION_BODIES);
        if (tu.equals(MemorySegment.NULL)) {
            throw new IllegalStateException("libclang could not parse " + source);
        }
        List<String> errors = new ArrayList<>();
        int count = (int) invoke(getNumDiagnostics, tu);
        for (int i = 0; i < count; i++) {
            MemorySegment diagnostic = (MemorySegment) invoke(getDiagnostic, tu, i);
            int severity = (int) invoke(getDiagnosticSeverity, diagnostic);
            String text = string((MemorySegment) invoke(formatDiagnostic, arena, diagnostic, 0x1 | 0x2 | 0x4));
            invoke(disposeDiagnostic, diagnostic);
            // 0 ignored, 1 note, 2 warning, 3 error, 4 fatal. Warnings are errors too: the bindings
            // must come from headers that parse cleanly.
            if (severity >= 2) {
                errors.add(text);
            }
        }
        if (!errors.isEmpty()) {
            invoke(disposeTranslationUnit, tu);
            throw new IllegalStateException("libclang diagnostics for " + source + ":\n  "
                    + String.join("\n  ", errors));
        }
        return tu;
    }

    MemorySegment createIndex() {
        return (MemorySegment) invoke(createIndex, 0, 0);
    }

    void disposeIndex(MemorySegment index) {
        invoke(disposeIndex, index);
    }

    void disposeTranslationUnit(MemorySegment tu) {
        invoke(disposeTranslationUnit, tu);
    }

    Cursor translationUnitCursor(MemorySegment tu) {
        return new Cursor((MemorySegment) invoke(getTranslationUnitCursor, arena, tu));
    }

    List<Cursor> children(Cursor parent) {
        List<Cursor> out = new ArrayList<>();
        visitSink = out;
        invoke(visitChildren, parent.segment(), childVisitorStub, MemorySegment.NULL);
        visitSink = null;
        return out;
    }

    /** Every file the translation unit includes, directly or not. */
    List<String> inclusions(MemorySegment tu) {
        List<String> out = new ArrayList<>();
        inclusionSink = out;
        invoke(getInclusions, tu, inclusionVisitorStub, MemorySegment.NULL);
        inclusionSink = null;
        return out;
    }

    String spelling(Cursor cursor) {
        return string((MemorySegment) invoke(getCursorSpelling, arena, cursor.segment()));
    }

    Type type(Cursor cursor) {
        return new Type((MemorySegment) invoke(getCursorType, arena, cursor.segment()));
    }

    Type typedefUnderlying(Cursor cursor) {
        return new Type((MemorySegment) invoke(getTypedefDeclUnderlyingType, arena, cursor.segment()));
    }

    boolean isBitField(Cursor cursor) {
        return (int) invoke(isBitField, cursor.segment()) != 0;
    }

    int bitWidth(Cursor field) {
        return (int) invoke(getFieldDeclBitWidth, field.segment());
    }

    boolean isDefinition(Cursor cursor) {
        return (int) invoke(isCursorDefinition, cursor.segment()) != 0;
    }

    long fieldOffsetBits(Cursor field) {
        return (long) invoke(cursorGetOffsetOfField, field.segment());
    }

    Type canonical(Type type) {
        return new Type((MemorySegment) invoke(getCanonicalType, arena, type.segment()));
    }

    Type pointee(Type type) {
        return new Type((MemorySegment) invoke(getPointeeType, arena, type.segment()));
    }

    Type result(Type function) {
        return new Type((MemorySegment) invoke(getResultType, arena, function.segment()));
    }

    int argCount(Type function) {
        return (int) invoke(getNumArgTypes, function.segment());
    }

    Type arg(Type function, int index) {
        return new Type((MemorySegment) invoke(getArgType, arena, function.segment(), index));
    }

    boolean isVariadic(Type function) {
        return (int) invoke(isFunctionTypeVariadic, function.segment()) != 0;
    }

    Type arrayElement(Type array) {
        return new Type((MemorySegment) invoke(getArrayElementType, arena, array.segment()));
    }

    long arraySize(Type array) {
        return (long) invoke(getArraySize, array.segment());
    }

    long sizeOf(Type type) {
        return (long) invoke(typeGetSizeOf, type.segment());
    }

    long alignOf(Type type) {
        return (long) invoke(typeGetAlignOf, type.segment());
    }

    Cursor declaration(Type type) {
        return new Cursor((MemorySegment) invoke(getTypeDeclaration, arena, type.segment()));
    }

    String spelling(Type type) {
        return string((MemorySegment) invoke(getTypeSpelling, arena, type.segment()));
    }

    /** The file a cursor is spelled in, or "" for built-ins. */
    String file(Cursor cursor) {
        MemorySegment location = (MemorySegment) invoke(getCursorLocation, arena, cursor.segment());
        MemorySegment file = arena.allocate(ADDRESS);
        invoke(getSpellingLocation, location, file, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL);
        MemorySegment handle = file.get(ADDRESS, 0);
        return handle.equals(MemorySegment.NULL) ? "" : fileName(handle);
    }

    private String fileName(MemorySegment file) {
        return string((MemorySegment) invoke(getFileName, arena, file));
    }

    String version() {
        return string((MemorySegment) invoke(getClangVersion, arena));
    }

    /** Evaluates an integer-valued cursor (a variable's initializer); the value is sign- or zero-extended. */
    long evaluateInteger(Cursor cursor, String what) {
        MemorySegment result = (MemorySegment) invoke(cursorEvaluate, cursor.segment());
        if (result.equals(MemorySegment.NULL)) {
            throw new IllegalStateException(what + " is not a constant expression");
        }
        try {
            if ((int) invoke(evalGetKind, result) != EVAL_INT) {
                throw new IllegalStateException(what + " does not evaluate to an integer");
            }
            return (int) invoke(evalIsUnsigned, result) != 0
                    ? (long) invoke(evalGetAsUnsigned, result)
                    : (long) invoke(evalGetAsLongLong, result);
        } finally {
            invoke(evalDispose, result);
        }
    }

    private String string(MemorySegment cxString) {
        MemorySegment chars = (MemorySegment) invoke(getCString, cxString);
        // libclang returns a NUL-terminated string of unknown length; bound the view by the terminator.
        String value = chars.equals(MemorySegment.NULL) ? "" : chars.reinterpret(Long.MAX_VALUE).getString(0);
        invoke(disposeString, cxString);
        return value;
    }

    private static Object invoke(MethodHandle handle, Object... args) {
        try {
            return handle.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Reads a header file's bytes for the input digest. */
    static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
