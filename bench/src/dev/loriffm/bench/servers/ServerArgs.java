package dev.loriffm.bench.servers;

/**
 * The command line every benchmark server accepts:
 * {@code --mode http|echo|tls-echo [--port P] [--cert FILE --key FILE] [--ssl tcnative|jdk]}.
 * Bad arguments print a message and exit 2.
 *
 * @param port 0 for an ephemeral port
 * @param ssl  the TLS provider ({@code tcnative} or {@code jdk}); only Netty has a choice
 */
public record ServerArgs(Mode mode, int port, String cert, String key, String ssl) {
    /** What the server does with each connection. */
    public enum Mode { HTTP, ECHO, TLS_ECHO }

    /** {@return the parsed arguments} Exits 2 with a message on stderr if they are wrong. */
    public static ServerArgs parse(String name, String[] argv, boolean sslChoice) {
        Mode mode = null;
        int port = 0;
        String cert = null;
        String key = null;
        String ssl = "tcnative";
        for (int i = 0; i < argv.length; i++) {
            String option = argv[i];
            if (i + 1 == argv.length) {
                fail(name, "option " + option + " needs a value");
            }
            String value = argv[++i];
            switch (option) {
                case "--mode" -> mode = switch (value) {
                    case "http" -> Mode.HTTP;
                    case "echo" -> Mode.ECHO;
                    case "tls-echo" -> Mode.TLS_ECHO;
                    default -> fail(name, "unknown mode " + value + " (http, echo or tls-echo)");
                };
                case "--port" -> port = Integer.parseInt(value);
                case "--cert" -> cert = value;
                case "--key" -> key = value;
                case "--ssl" -> {
                    if (!sslChoice || !(value.equals("tcnative") || value.equals("jdk"))) {
                        fail(name, "--ssl takes tcnative or jdk, and only for Netty");
                    }
                    ssl = value;
                }
                default -> fail(name, "unknown option " + option);
            }
        }
        if (mode == null) {
            fail(name, "--mode is required");
        }
        if (mode == Mode.TLS_ECHO && (cert == null || key == null)) {
            fail(name, "tls-echo needs --cert and --key");
        }
        return new ServerArgs(mode, port, cert, key, ssl);
    }

    private static <T> T fail(String name, String message) {
        System.err.println(name + ": " + message);
        System.exit(2);
        return null;
    }
}
