package dev.loriffm.bindgen;

import java.util.List;

/** The language-neutral description of one header group, extracted from libclang, ready to emit. */
final class Model {
    private Model() { }

    /** A C scalar as Java sees it: carrier type and the header class's layout constant. */
    enum Scalar {
        BOOL("boolean", "C_BOOL", "OfBoolean", 1),
        CHAR("byte", "C_CHAR", "OfByte", 1),
        SHORT("short", "C_SHORT", "OfShort", 2),
        INT("int", "C_INT", "OfInt", 4),
        LONG("long", "C_LONG", "OfLong", 8),
        LONG_LONG("long", "C_LONG_LONG", "OfLong", 8),
        FLOAT("float", "C_FLOAT", "OfFloat", 4),
        DOUBLE("double", "C_DOUBLE", "OfDouble", 8),
        POINTER("MemorySegment", "C_POINTER", "AddressLayout", 8);

        final String carrier;
        final String layoutConstant;
        final String layoutType;
        final long size;

        Scalar(String carrier, String layoutConstant, String layoutType, long size) {
            this.carrier = carrier;
            this.layoutConstant = layoutConstant;
            this.layoutType = layoutType;
            this.size = size;
        }
    }

    /** The shape of a C type inside a record or a signature. */
    sealed interface Shape permits ScalarShape, ArrayShape, RecordShape { }

    /** A scalar, with the alignment the enclosing record imposes (its natural one unless packed). */
    record ScalarShape(Scalar scalar, long alignment) implements Shape { }

    /** {@code T name[count]}. */
    record ArrayShape(long count, Shape element) implements Shape { }

    /** A nested struct or union, laid out inline. */
    record RecordShape(boolean union, long size, List<Member> members) implements Shape { }

    /** A member of a record layout: a named field or padding. */
    sealed interface Member permits Field, Padding { }

    /** A named field at a byte offset; {@code cDeclaration} is how C spells it. */
    record Field(String name, long offset, long size, Shape shape, String cDeclaration) implements Member { }

    /** Bytes the C compiler inserts (alignment, or bit-fields the bindings do not expose). */
    record Padding(long size, String why) implements Member { }

    /** A bound struct or union. */
    record Record(String name, boolean union, long size, long alignment, RecordShape shape,
                  List<String> cFieldLines) { }

    /** A bound function. */
    record Function(String name, Scalar result, List<Parameter> parameters, ArgFile.CallOptions options,
                    String cDeclaration) { }

    /** A function parameter. {@code variadic} marks the fixed-arity variadic extras. */
    record Parameter(String name, Scalar type, boolean variadic) { }

    /** A function-pointer typedef, bound as an upcall class. */
    record Callback(String name, Scalar result, List<Parameter> parameters, String cDeclaration) { }

    /**
     * A typedef of a scalar ({@code scalar} set) or of a bound record ({@code recordClass} set),
     * bound as a layout alias in the header class.
     */
    record Alias(String name, Scalar scalar, String recordClass, String cDeclaration) { }

    /** An integer constant with the Java type its C type maps to. */
    record Constant(String name, Scalar type, String cType, long value) { }

    /** Everything one argfile produces. */
    record Group(ArgFile argFile, String headerName, List<Function> functions, List<Record> records,
                 List<Callback> callbacks, List<Alias> aliases, List<Constant> constants,
                 List<String> inputFiles) { }
}
