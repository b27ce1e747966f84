package dev.loriffm.examples;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The examples' command-line options: {@code --name value} or {@code --name=value}, plus
 * {@code --help}. Usage goes to stdout (exit 0); a bad option goes to stderr (exit 2).
 *
 * <pre>{@code
 * Args args = Args.parse("echo-server", USAGE, argv);
 * int port = args.intOption("--port", 0, 0, 65535);
 * args.finish();   // rejects options nobody asked for
 * }</pre>
 *
 * <p>Flags, options without a value ({@code --tls}), are named to {@link #parse(String, String,
 * String[], Set)} and read with {@link #flag(String)}.
 *
 * <p>Not thread-safe: use it in {@code main} only.
 */
final class Args {
    /** The exit code of a usage error, as most Unix tools use it. */
    static final int USAGE_ERROR = 2;

    private final String name;
    private final Map<String, String> options;

    private Args(String name, Map<String, String> options) {
        this.name = name;
        this.options = options;
    }

    /**
     * {@return the options in {@code argv}} Prints {@code usage} and exits 0 on {@code --help} or
     * {@code -h}; exits 2 on a positional argument, a repeated option or a missing value.
     */
    static Args parse(String name, String usage, String[] argv) {
        return parse(name, usage, argv, Set.of());
    }

    /**
     * As {@link #parse(String, String, String[])}, where the options in {@code flags} take no value
     * (a flag given a value with {@code --flag=value} exits 2).
     */
    static Args parse(String name, String usage, String[] argv, Set<String> flags) {
        for (String arg : argv) {
            if (arg.equals("--help") || arg.equals("-h")) {
                System.out.print(usage);
                System.out.flush();
                System.exit(0);
            }
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < argv.length; i++) {
            String arg = argv[i];
            if (!arg.startsWith("--") || arg.length() == 2) {
                fail(name, "unexpected argument '" + arg + "'");
            }
            String key = arg;
            String value;
            int eq = arg.indexOf('=');
            if (flags.contains(eq > 0 ? arg.substring(0, eq) : arg)) {
                if (eq > 0) {
                    fail(name, "option " + arg.substring(0, eq) + " takes no value");
                }
                value = ""; // present, no value
            } else if (eq > 0) {
                key = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            } else if (i + 1 < argv.length) {
                value = argv[++i];
            } else {
                value = null;
                fail(name, "option " + arg + " needs a value");
            }
            if (options.put(key, value) != null) {
                fail(name, "option " + key + " is given twice");
            }
        }
        return new Args(name, options);
    }

    /** {@return whether the flag {@code option} was given} */
    boolean flag(String option) {
        return options.remove(option) != null;
    }

    /** {@return the option's value, or {@code fallback} if absent} */
    String string(String option, String fallback) {
        String value = options.remove(option);
        if (value != null && value.isEmpty()) {
            fail(name, "option " + option + " needs a non-empty value");
        }
        return value == null ? fallback : value;
    }

    /** {@return the option as an integer in {@code [min, max]}, or {@code fallback} if absent} */
    int intOption(String option, int fallback, int min, int max) {
        String value = options.remove(option);
        if (value == null) {
            return fallback;
        }
        try {
            int parsed = Integer.parseInt(value);
            if (parsed >= min && parsed <= max) {
                return parsed;
            }
        } catch (NumberFormatException notANumber) {
            // reported below
        }
        fail(name, "option " + option + " must be an integer in " + min + ".." + max + ", not '" + value + "'");
        return fallback;
    }

    /** Exits 2 if an option was given that no accessor asked for. */
    void finish() {
        if (!options.isEmpty()) {
            fail(name, "unknown option " + options.keySet().iterator().next());
        }
    }

    /** Prints {@code message} and a hint to stderr and exits 2. */
    static void fail(String name, String message) {
        PrintStream err = System.err;
        err.println(name + ": " + message);
        err.println("Try 'scripts/example " + name + " --help'.");
        err.flush();
        System.exit(USAGE_ERROR);
    }
}
