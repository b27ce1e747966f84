package dev.loriffm.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Paths of the checked-out project and a helper to run its tools. */
public final class Project {
    private Project() { }

    /** {@return the project's root folder (set by the build; the working directory otherwise)} */
    public static Path root() {
        return Path.of(System.getProperty("loriffm.projectDir", ".")).toAbsolutePath().normalize();
    }

    /** The result of a finished process. */
    public record Run(int exitCode, String output) { }

    /**
     * Runs a command in {@code dir} with stdout and stderr merged, waiting at most {@code timeoutSeconds}.
     *
     * @throws AssertionError if it does not finish in time
     */
    public static Run run(Path dir, long timeoutSeconds, List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        process.getOutputStream().close();
        byte[][] out = new byte[1][];
        Thread reader = Thread.ofPlatform().start(() -> {
            try (InputStream in = process.getInputStream()) {
                out[0] = in.readAllBytes();
            } catch (IOException e) {
                out[0] = ("(output lost: " + e + ")").getBytes(StandardCharsets.UTF_8);
            }
        });
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not finish within " + timeoutSeconds + " s");
        }
        reader.join();
        return new Run(process.exitValue(), new String(out[0], StandardCharsets.UTF_8));
    }
}
