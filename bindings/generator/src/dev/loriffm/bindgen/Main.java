package dev.loriffm.bindgen;

import dev.loriffm.bindgen.Model.Group;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The binding generator: reads every {@code *.argfile} in the config folder, parses each group's
 * headers with libclang and writes jextract-shaped Java sources plus an inputs record.
 *
 * <pre>
 * Main --config jextract-config --output bindings/src/main/java --record bindings/inputs.txt
 *      [--check] [--libclang /path/to/libclang.so.1]
 * </pre>
 *
 * <p>With {@code --check} nothing is written: the output is generated in memory and compared with
 * the files on disk. Exit codes: 0 identical (or written), 1 different, 2 usage or generation
 * error, 3 the headers differ from those recorded (so a difference would prove nothing),
 * 4 libclang not found.
 */
public final class Main {
    static final int EXIT_DIFFERENT = 1;
    static final int EXIT_ERROR = 2;
    static final int EXIT_OTHER_HEADERS = 3;
    static final int EXIT_NO_LIBCLANG = 4;

    private Main() { }

    public static void main(String[] args) {
        try {
            System.exit(run(args));
        } catch (IllegalArgumentException | IllegalStateException | IOException | UncheckedIOException e) {
            System.err.println("generate-bindings: " + e.getMessage());
            System.exit(EXIT_ERROR);
        }
    }

    static int run(String[] args) throws IOException {
        Path config = null;
        Path output = null;
        Path record = null;
        Path libclang = null;
        boolean check = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--config" -> config = Path.of(value(args, ++i));
                case "--output" -> output = Path.of(value(args, ++i));
                case "--record" -> record = Path.of(value(args, ++i));
                case "--libclang" -> libclang = Path.of(value(args, ++i));
                case "--check" -> check = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (config == null || output == null || record == null) {
            throw new IllegalArgumentException("usage: --config DIR --output SRC_ROOT --record FILE [--check]"
                    + " [--libclang LIB]");
        }
        Path library = libclang != null ? libclang : LibclangLocator.find();
        if (library == null) {
            System.err.println("generate-bindings: libclang not found; install libclang1-14 and"
                    + " libclang-common-14-dev (apt-get install libclang1-14 libclang-common-14-dev)");
            return EXIT_NO_LIBCLANG;
        }
        List<Path> argFiles;
        try (Stream<Path> files = Files.list(config)) {
            argFiles = files.filter(p -> p.getFileName().toString().endsWith(".argfile")).sorted().toList();
        }
        if (argFiles.isEmpty()) {
            throw new IllegalArgumentException("no *.argfile in " + config);
        }
        List<Group> groups = new ArrayList<>();
        String version;
        Path work = Files.createTempDirectory("lori-bindgen");
        try (Clang clang = new Clang(library)) {
            version = clang.version();
            Extractor extractor = new Extractor(clang, LibclangLocator.resourceDirArgs(library));
            for (Path argFile : argFiles) {
                groups.add(extractor.extract(ArgFile.parse(argFile), work));
            }
        } finally {
            try (Stream<Path> files = Files.walk(work)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        Map<Path, String> sources = sources(groups, output);
        String inputs = inputsRecord(version, groups, config);
        if (check) {
            return check(sources, record, inputs);
        }
        write(sources, output, groups);
        Files.writeString(record, inputs, StandardCharsets.UTF_8);
        System.err.println("generate-bindings: wrote " + sources.size() + " files with " + version);
        return 0;
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private static Map<Path, String> sources(List<Group> groups, Path output) {
        Map<Path, String> sources = new LinkedHashMap<>();
        String pkg = groups.getFirst().argFile().targetPackage();
        Path dir = output.resolve(pkg.replace('.', '/'));
        for (Group group : groups) {
            if (!group.argFile().targetPackage().equals(pkg)) {
                throw new IllegalArgumentException("every group must use the package " + pkg);
            }
            String configName = group.argFile().source().getFileName().toString();
            for (Map.Entry<String, String> e : new Emitter(group, configName).emit().entrySet()) {
                Path file = dir.resolve(e.getKey() + ".java");
                if (sources.put(file, e.getValue()) != null) {
                    throw new IllegalArgumentException(e.getKey() + " is bound by more than one group");
                }
            }
        }
        sources.put(dir.resolve("BindingsManifest.java"), ManifestEmitter.emit(pkg, groups));
        return sources;
    }

    /** The record of what generated the bindings: libclang's version and a digest of every header read. */
    private static String inputsRecord(String version, List<Group> groups, Path config) {
        StringBuilder out = new StringBuilder();
        out.append("# Inputs of the generated bindings, written by scripts/generate-bindings.\n");
        out.append("# The determinism test regenerates and compares only where every digest matches.\n");
        out.append("libclang: ").append(version).append('\n');
        for (Group group : groups) {
            out.append("group ").append(group.argFile().headerClass()).append(" sha256 ")
                    .append(digest(group.inputFiles(), config)).append('\n');
            for (String file : group.inputFiles()) {
                out.append("  ").append(file).append('\n');
            }
        }
        return out.toString();
    }

    private static String digest(List<String> files, Path config) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String file : files) {
                sha.update(file.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(Clang.read(file.startsWith("jextract-config/")
                        ? config.resolve(file.substring("jextract-config/".length())) : Path.of(file)));
                sha.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> groupDigests(String record) {
        Map<String, String> digests = new TreeMap<>();
        for (String line : record.split("\n")) {
            if (line.startsWith("group ")) {
                String[] w = line.split(" ");
                digests.put(w[1], w[3]);
            }
        }
        return digests;
    }

    private static int check(Map<Path, String> sources, Path record, String inputs) throws IOException {
        if (!Files.exists(record)) {
            System.err.println("generate-bindings --check: " + record + " is missing");
            return EXIT_DIFFERENT;
        }
        Map<String, String> recorded = groupDigests(Files.readString(record));
        Map<String, String> current = groupDigests(inputs);
        if (!recorded.equals(current)) {
            System.err.println("generate-bindings --check: this machine's headers differ from the recorded ones"
                    + " (recorded " + recorded + ", here " + current + "); not comparing");
            return EXIT_OTHER_HEADERS;
        }
        List<String> different = new ArrayList<>();
        for (Map.Entry<Path, String> e : sources.entrySet()) {
            Path file = e.getKey();
            if (!Files.exists(file) || !Files.readString(file, StandardCharsets.UTF_8).equals(e.getValue())) {
                different.add(file.toString());
            }
        }
        Path dir = sources.keySet().iterator().next().getParent();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.sorted().toList()) {
                if (!sources.containsKey(file) && isGenerated(file)) {
                    different.add(file + " (stale: no longer generated)");
                }
            }
        }
        if (!different.isEmpty()) {
            System.err.println("generate-bindings --check: generated output differs from the checked-in files:\n  "
                    + String.join("\n  ", different));
            return EXIT_DIFFERENT;
        }
        System.err.println("generate-bindings --check: " + sources.size() + " files identical");
        return 0;
    }

    private static boolean isGenerated(Path file) throws IOException {
        if (!file.toString().endsWith(".java")) {
            return false;
        }
        try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
            return lines.findFirst().map(l -> l.startsWith("// Generated by lori-ffm bindgen")).orElse(false);
        }
    }

    private static void write(Map<Path, String> sources, Path output, List<Group> groups) throws IOException {
        Path dir = sources.keySet().iterator().next().getParent();
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                if (!sources.containsKey(file) && isGenerated(file)) {
                    Files.delete(file);
                }
            }
        }
        for (Map.Entry<Path, String> e : sources.entrySet()) {
            Files.writeString(e.getKey(), e.getValue(), StandardCharsets.UTF_8);
        }
    }
}
