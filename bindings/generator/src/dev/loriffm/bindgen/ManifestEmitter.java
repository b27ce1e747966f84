package dev.loriffm.bindgen;

import dev.loriffm.bindgen.Model.Constant;
import dev.loriffm.bindgen.Model.Field;
import dev.loriffm.bindgen.Model.Function;
import dev.loriffm.bindgen.Model.Group;
import dev.loriffm.bindgen.Model.Member;
import dev.loriffm.bindgen.Model.Record;

import java.util.List;

/**
 * Writes {@code BindingsManifest}: every bound constant, record and function of every group, read
 * through the generated accessors themselves, so that the C probe test checks the Java side that
 * the runtime really uses (without reflection).
 */
final class ManifestEmitter {
    private ManifestEmitter() { }

    static String emit(String pkg, List<Group> groups) {
        StringBuilder out = new StringBuilder();
        out.append(Emitter.GENERATED_MARK.formatted("jextract-config/*.argfile")).append("\n\npackage ")
                .append(pkg).append(";\n\n");
        out.append("import java.lang.foreign.MemoryLayout;\nimport java.lang.foreign.MemorySegment;\n")
                .append("import java.util.ArrayList;\nimport java.util.List;\nimport java.util.function.Supplier;\n\n");
        out.append("""
                /**
                 * Every symbol the generated bindings expose, for tests that check them against the C compiler.
                 *
                 * <p>Thread-safe: stateless. Not for runtime use.
                 */
                public final class BindingsManifest {

                    private BindingsManifest() { }

                    /** A header group: its header class and wrapper header in {@code jextract-config/}. */
                    public record Group(String headerClass, String wrapperHeader) { }

                    /** An integer constant as the generated accessor returns it, widened to {@code long}. */
                    public record Constant(String headerClass, String name, String cType, long value) { }

                    /** A field of a record: its name, byte offset and size as the generated layout has them. */
                    public record Field(String name, long offset, long size) { }

                    /** A struct or union ({@code cName} is e.g. {@code "struct sockaddr_in"}) and its layout. */
                    public record Record(String headerClass, String cName, MemoryLayout layout, List<Field> fields) { }

                    /** A function and a way to resolve its address (forcing the symbol lookup). */
                    public record Function(String headerClass, String name, Supplier<MemorySegment> address) { }

                """);
        out.append("    /** {@return every header group} */\n    public static List<Group> groups() {\n")
                .append("        return List.of(");
        for (int i = 0; i < groups.size(); i++) {
            Group g = groups.get(i);
            out.append(i == 0 ? "\n" : ",\n").append("                new Group(\"")
                    .append(g.argFile().headerClass()).append("\", \"").append(g.headerName()).append("\")");
        }
        out.append(");\n    }\n\n");
        section(out, groups, "Constant", "constants");
        section(out, groups, "Record", "records");
        section(out, groups, "Function", "functions");
        for (Group g : groups) {
            String h = g.argFile().headerClass();
            out.append("    private static void constants_").append(h).append("(List<Constant> out) {\n");
            for (Constant c : g.constants()) {
                out.append("        out.add(new Constant(\"").append(h).append("\", \"").append(c.name())
                        .append("\", \"").append(c.cType()).append("\", ").append(h).append('.').append(c.name())
                        .append(c.type() == Model.Scalar.BOOL ? "() ? 1 : 0" : "()").append("));\n");
            }
            out.append("    }\n\n");
            out.append("    private static void records_").append(h).append("(List<Record> out) {\n");
            for (Record r : g.records()) {
                out.append("        out.add(new Record(\"").append(h).append("\", \"")
                        .append(r.union() ? "union " : "struct ").append(r.name()).append("\", ").append(r.name())
                        .append(".layout(), List.of(");
                boolean first = true;
                for (Member m : r.shape().members()) {
                    if (m instanceof Field f) {
                        String n = Extractor.fieldName(f.name());
                        out.append(first ? "\n" : ",\n").append("                new Field(\"").append(f.name())
                                .append("\", ").append(r.name()).append('.').append(n).append("$offset(), ")
                                .append(r.name()).append('.').append(n).append("$layout().byteSize())");
                        first = false;
                    }
                }
                out.append(")));\n");
            }
            out.append("    }\n\n");
            out.append("    private static void functions_").append(h).append("(List<Function> out) {\n");
            for (Function f : g.functions()) {
                out.append("        out.add(new Function(\"").append(h).append("\", \"").append(f.name())
                        .append("\", ").append(h).append("::").append(f.name()).append("$address));\n");
            }
            out.append("    }\n\n");
        }
        return out.append("}\n").toString();
    }

    private static void section(StringBuilder out, List<Group> groups, String type, String name) {
        out.append("    /** {@return every bound ").append(type.toLowerCase()).append("} */\n")
                .append("    public static List<").append(type).append("> ").append(name).append("() {\n")
                .append("        List<").append(type).append("> out = new ArrayList<>();\n");
        for (Group g : groups) {
            out.append("        ").append(name).append('_').append(g.argFile().headerClass()).append("(out);\n");
        }
        out.append("        return List.copyOf(out);\n    }\n\n");
    }
}
