package dev.loriffm.bindgen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One parsed jextract-format argfile: a header group (see {@code jextract-config/README.md}).
 *
 * @param source       the argfile itself
 * @param targetPackage the Java package of the generated classes
 * @param headerClass  the name of the generated header class
 * @param libraries    library names given with {@code -l :name}, in order
 * @param clangArgs    {@code -D}/{@code -I} arguments for libclang
 * @param header       the group's wrapper header
 * @param symbols      the symbols to bind, in file order
 */
record ArgFile(Path source, String targetPackage, String headerClass, List<String> libraries,
               List<String> clangArgs, Path header, List<Symbol> symbols) {

    /** What kind of declaration a symbol names. */
    enum Kind { FUNCTION, STRUCT, UNION, TYPEDEF, CONSTANT }

    /** How a function is linked, from the words of its trailing comment. */
    record CallOptions(boolean errno, boolean critical, boolean criticalHeap, List<String> variadicTypes,
                       String reason) {
        static final CallOptions NONE = new CallOptions(false, false, false, List.of(), "");

        boolean variadic() {
            return !variadicTypes.isEmpty();
        }
    }

    /** One {@code --include-*} line. */
    record Symbol(Kind kind, String name, CallOptions options, int line) { }

    static ArgFile parse(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        String pkg = null;
        String headerClass = null;
        Path header = null;
        List<String> libraries = new ArrayList<>();
        List<String> clangArgs = new ArrayList<>();
        List<Symbol> symbols = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            int lineNo = i + 1;
            String raw = lines.get(i);
            int hash = raw.indexOf('#');
            String code = (hash >= 0 ? raw.substring(0, hash) : raw).strip();
            String comment = hash >= 0 ? raw.substring(hash).replaceFirst("^#+", "").strip() : "";
            if (code.isEmpty()) {
                continue;
            }
            String[] words = code.split("\\s+");
            String where = file.getFileName() + ":" + lineNo;
            switch (words[0]) {
                case "--target-package" -> pkg = single(words, where);
                case "--header-class-name" -> headerClass = single(words, where);
                case "-l", "--library" -> {
                    String lib = single(words, where);
                    if (!lib.startsWith(":")) {
                        throw new IllegalArgumentException(where + ": name libraries as -l :file.so.N");
                    }
                    libraries.add(lib.substring(1));
                }
                case "-D", "-I" -> clangArgs.add(words[0] + single(words, where));
                case "--output" -> single(words, where); // the generator's own --output wins
                case "--include-function" -> symbols.add(symbol(Kind.FUNCTION, words, comment, where, lineNo, seen));
                case "--include-struct" -> symbols.add(symbol(Kind.STRUCT, words, comment, where, lineNo, seen));
                case "--include-union" -> symbols.add(symbol(Kind.UNION, words, comment, where, lineNo, seen));
                case "--include-typedef" -> symbols.add(symbol(Kind.TYPEDEF, words, comment, where, lineNo, seen));
                case "--include-constant" -> symbols.add(symbol(Kind.CONSTANT, words, comment, where, lineNo, seen));
                default -> {
                    if (words[0].startsWith("-") || words.length != 1) {
                        throw new IllegalArgumentException(where + ": unsupported option " + words[0]);
                    }
                    if (header != null) {
                        throw new IllegalArgumentException(where + ": a group has exactly one wrapper header");
                    }
                    header = file.resolveSibling(words[0]).normalize();
                }
            }
        }
        if (pkg == null || headerClass == null || header == null) {
            throw new IllegalArgumentException(file + ": needs --target-package, --header-class-name and a header");
        }
        return new ArgFile(file, pkg, headerClass, List.copyOf(libraries), List.copyOf(clangArgs), header,
                List.copyOf(symbols));
    }

    private static String single(String[] words, String where) {
        if (words.length != 2) {
            throw new IllegalArgumentException(where + ": " + words[0] + " takes exactly one value");
        }
        return words[1];
    }

    private static Symbol symbol(Kind kind, String[] words, String comment, String where, int line,
                                 Set<String> seen) {
        String name = single(words, where);
        if (!seen.add(kind + " " + name)) {
            throw new IllegalArgumentException(where + ": " + name + " is listed twice");
        }
        CallOptions options = kind == Kind.FUNCTION ? callOptions(comment, where) : CallOptions.NONE;
        return new Symbol(kind, name, options, line);
    }

    private static CallOptions callOptions(String comment, String where) {
        int dashes = comment.indexOf(" -- ");
        String wordsPart = dashes >= 0 ? comment.substring(0, dashes) : comment;
        String reason = dashes >= 0 ? comment.substring(dashes + 4).strip() : "";
        if (comment.startsWith("-- ")) {
            wordsPart = "";
            reason = comment.substring(3).strip();
        }
        boolean errno = false;
        boolean critical = false;
        boolean heap = false;
        boolean plain = false;
        List<String> variadic = List.of();
        String[] words = wordsPart.isBlank() ? new String[0] : wordsPart.strip().split("\\s+");
        if (words.length == 0) {
            throw new IllegalArgumentException(where + ": say errno, critical, critical-heap, variadic(...)"
                    + " or plain in the trailing comment");
        }
        for (String word : words) {
            String w = word.toLowerCase(Locale.ROOT);
            if (w.equals("errno")) {
                errno = true;
            } else if (w.equals("critical")) {
                critical = true;
            } else if (w.equals("critical-heap")) {
                critical = true;
                heap = true;
            } else if (w.equals("plain")) {
                plain = true;
            } else if (w.startsWith("variadic(") && w.endsWith(")")) {
                variadic = List.of(w.substring("variadic(".length(), w.length() - 1).split(","));
                for (String t : variadic) {
                    if (!Set.of("int", "long", "pointer").contains(t)) {
                        throw new IllegalArgumentException(where + ": variadic argument type " + t
                                + " is not one of int, long, pointer");
                    }
                }
            } else {
                throw new IllegalArgumentException(where + ": unknown call option '" + word + "'");
            }
        }
        if (plain && (errno || critical || !variadic.isEmpty())) {
            throw new IllegalArgumentException(where + ": 'plain' excludes every other option");
        }
        if (critical && reason.isEmpty()) {
            throw new IllegalArgumentException(where + ": a critical function needs a ' -- reason'");
        }
        return new CallOptions(errno, critical, heap, variadic, reason);
    }
}
