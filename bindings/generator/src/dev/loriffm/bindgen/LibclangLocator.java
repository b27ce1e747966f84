package dev.loriffm.bindgen;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Finds the libclang shared library and its resource directory (builtin headers such as stddef.h). */
final class LibclangLocator {
    private LibclangLocator() { }

    /**
     * {@return the newest {@code /usr/lib/llvm-N/lib/libclang.so.1} (or {@code $LIBCLANG}), or null if none}
     */
    static Path find() {
        String env = System.getenv("LIBCLANG");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        Path lib = Path.of("/usr/lib");
        if (!Files.isDirectory(lib)) {
            return null;
        }
        try (Stream<Path> dirs = Files.list(lib)) {
            return dirs.filter(d -> d.getFileName().toString().matches("llvm-\\d+"))
                    .sorted(Comparator.comparingInt(LibclangLocator::llvmVersion).reversed())
                    .map(d -> d.resolve("lib/libclang.so.1"))
                    .filter(Files::exists)
                    .findFirst().orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int llvmVersion(Path dir) {
        return Integer.parseInt(dir.getFileName().toString().substring("llvm-".length()));
    }

    /**
     * {@return {@code -resource-dir} arguments naming the builtin-header folder next to the library}
     * libclang guesses it from its own path, which breaks when it is loaded through a symlink.
     */
    static List<String> resourceDirArgs(Path library) {
        Path clangDir = library.toAbsolutePath().getParent().resolve("clang");
        if (!Files.isDirectory(clangDir)) {
            return List.of();
        }
        try (Stream<Path> versions = Files.list(clangDir)) {
            return versions.filter(v -> Files.exists(v.resolve("include/stddef.h")))
                    .sorted(Comparator.reverseOrder())
                    .findFirst()
                    .map(v -> List.of("-resource-dir", v.toString()))
                    .orElse(List.of());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
