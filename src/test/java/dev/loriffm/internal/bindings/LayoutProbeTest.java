package dev.loriffm.internal.bindings;

import dev.loriffm.testing.Project;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks every generated struct, union and constant against the C compiler: a probe compiled with
 * gcc prints {@code sizeof}, {@code _Alignof}, {@code offsetof} and constant values, which must
 * equal what the Java side (the generated accessors, through {@link BindingsManifest}) reports.
 * Also checks that the bindings cover exactly what {@code jextract-config} names.
 */
class LayoutProbeTest {
    private static Map<String, String> probe;

    @BeforeAll
    static void runProbes(@TempDir Path dir) throws Exception {
        probe = new HashMap<>();
        for (BindingsManifest.Group group : BindingsManifest.groups()) {
            probe.putAll(runProbe(dir, group));
        }
    }

    private static Map<String, String> runProbe(Path dir, BindingsManifest.Group group) throws Exception {
        Path header = Project.root().resolve("jextract-config").resolve(group.wrapperHeader());
        StringBuilder c = new StringBuilder();
        c.append("#include \"").append(header).append("\"\n#include <stdio.h>\n#include <stddef.h>\n\nint main(void) {\n");
        for (BindingsManifest.Constant k : BindingsManifest.constants()) {
            if (k.headerClass().equals(group.headerClass())) {
                c.append("    printf(\"C %s %zu %llu\\n\", \"").append(k.name()).append("\", sizeof(")
                        .append(k.name()).append("), (unsigned long long)(").append(k.name()).append("));\n");
            }
        }
        for (BindingsManifest.Record r : BindingsManifest.records()) {
            if (r.headerClass().equals(group.headerClass())) {
                String t = r.cName();
                c.append("    printf(\"R %s %zu %zu\\n\", \"").append(t.replace(' ', '_')).append("\", sizeof(")
                        .append(t).append("), _Alignof(").append(t).append("));\n");
                for (BindingsManifest.Field f : r.fields()) {
                    c.append("    printf(\"F %s.%s %zu %zu\\n\", \"").append(t.replace(' ', '_')).append("\", \"")
                            .append(f.name()).append("\", offsetof(").append(t).append(", ").append(f.name())
                            .append("), sizeof(((").append(t).append(" *) 0)->").append(f.name()).append("));\n");
                }
            }
        }
        c.append("    return 0;\n}\n");
        Path source = dir.resolve(group.headerClass() + "_probe.c");
        Path binary = dir.resolve(group.headerClass() + "_probe");
        Files.writeString(source, c, StandardCharsets.UTF_8);
        Project.Run compile = Project.run(dir, 300, List.of("gcc", "-std=gnu11", "-Werror", "-o",
                binary.toString(), source.toString()));
        assertEquals(0, compile.exitCode(), "gcc failed:\n" + compile.output());
        Project.Run run = Project.run(dir, 60, List.of(binary.toString()));
        assertEquals(0, run.exitCode(), run.output());
        Map<String, String> values = new HashMap<>();
        for (String line : run.output().split("\n")) {
            String[] w = line.split(" ", 3);
            values.put(w[0] + " " + w[1], w[2]);
        }
        return values;
    }

    /** Every constant's value equals the compiler's, compared in the C type's width. */
    @Test
    void constantsMatchTheCompiler() {
        List<BindingsManifest.Constant> constants = BindingsManifest.constants();
        assertTrue(constants.size() > 400, "bindings cover the constants jextract-config names");
        List<String> wrong = new ArrayList<>();
        for (BindingsManifest.Constant k : constants) {
            String[] c = probe.get("C " + k.name()).split(" ");
            int bits = Integer.parseInt(c[0]) * 8;
            long mask = bits >= 64 ? -1L : (1L << bits) - 1;
            long expected = Long.parseUnsignedLong(c[1]) & mask;
            if ((k.value() & mask) != expected) {
                wrong.add(k.name() + ": Java " + k.value() + ", C " + Long.toUnsignedString(expected));
            }
        }
        assertEquals(List.of(), wrong);
    }

    /** Every record's size, alignment and field offsets and sizes equal the compiler's. */
    @Test
    void recordLayoutsMatchTheCompiler() {
        List<String> wrong = new ArrayList<>();
        int fields = 0;
        for (BindingsManifest.Record r : BindingsManifest.records()) {
            String key = r.cName().replace(' ', '_');
            String[] c = probe.get("R " + key).split(" ");
            check(wrong, r.cName() + " size", r.layout().byteSize(), Long.parseLong(c[0]));
            check(wrong, r.cName() + " alignment", r.layout().byteAlignment(), Long.parseLong(c[1]));
            for (BindingsManifest.Field f : r.fields()) {
                String[] fc = probe.get("F " + key + "." + f.name()).split(" ");
                check(wrong, r.cName() + "." + f.name() + " offset", f.offset(), Long.parseLong(fc[0]));
                check(wrong, r.cName() + "." + f.name() + " size", f.size(), Long.parseLong(fc[1]));
                fields++;
            }
        }
        assertTrue(fields > 100, "records have their fields");
        assertEquals(List.of(), wrong);
    }

    /** The packed {@code struct epoll_event} is 12 bytes with its 64-bit data at offset 4. */
    @Test
    void epollEventIsPacked() {
        assertEquals(12, epoll_event.sizeof());
        assertEquals("12 1", probe.get("R struct_epoll_event"));
        assertEquals("4 8", probe.get("F struct_epoll_event.data"));
    }

    private static void check(List<String> wrong, String what, long java, long c) {
        if (java != c) {
            wrong.add(what + ": Java " + java + ", C " + c);
        }
    }

    /** Every function named in jextract-config resolves to a symbol of its library. */
    @Test
    void everyFunctionResolves() {
        List<String> unresolved = new ArrayList<>();
        for (BindingsManifest.Function f : BindingsManifest.functions()) {
            try {
                MemorySegment address = f.address().get();
                if (address.equals(MemorySegment.NULL)) {
                    unresolved.add(f.name());
                }
            } catch (UnsatisfiedLinkError | ExceptionInInitializerError e) {
                unresolved.add(f.name() + ": " + e);
            }
        }
        assertEquals(List.of(), unresolved);
    }

    private static final Pattern INCLUDE =
            Pattern.compile("^\\s*--include-(function|struct|union|constant|typedef)\\s+(\\S+)");

    /** The manifest (and so the generated code) names exactly the symbols the argfiles name. */
    @Test
    void bindingsCoverEverySymbolTheConfigNames() throws IOException {
        Set<String> config = new LinkedHashSet<>();
        try (var files = Files.list(Project.root().resolve("jextract-config"))) {
            for (Path argFile : files.filter(p -> p.toString().endsWith(".argfile")).sorted().toList()) {
                for (String line : Files.readAllLines(argFile)) {
                    Matcher m = INCLUDE.matcher(line);
                    if (m.find() && !m.group(1).equals("typedef")) {
                        String kind = m.group(1).equals("function") ? "function" : m.group(1).equals("constant")
                                ? "constant" : "record";
                        config.add(kind + " " + (kind.equals("record") ? m.group(1) + " " : "") + m.group(2));
                    }
                }
            }
        }
        Set<String> bound = new LinkedHashSet<>();
        BindingsManifest.functions().forEach(f -> bound.add("function " + f.name()));
        BindingsManifest.constants().forEach(k -> bound.add("constant " + k.name()));
        BindingsManifest.records().forEach(r -> bound.add("record " + r.cName()));
        assertFalse(config.isEmpty());
        assertEquals(config, bound);
    }
}
