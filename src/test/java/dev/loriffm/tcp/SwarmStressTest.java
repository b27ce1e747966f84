package dev.loriffm.tcp;

import dev.loriffm.internal.sys.NativeAccounting;
import dev.loriffm.testing.FdLeakCheck;
import dev.loriffm.tls.TestCertificates;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The swarm ({@link Swarm}) as a bounded test: a few hundred seeded random echo connections over
 * plaintext and TLS, three server loops and two client loops, then every oracle. The seed is
 * printed; rerun one with {@code -Dloriffm.swarm.seed=N}, or a single connection with
 * {@code -Dloriffm.swarm.replay=CONNECTION_SEED[,tls]}. {@code scripts/soak} runs it for longer
 * ({@code -Dloriffm.swarm.seconds}).
 */
@ExtendWith(FdLeakCheck.class)
class SwarmStressTest {

    @BeforeAll
    static void warmUp() throws Exception {
        JdkPeer.warmUp();
        TestCertificates.dir();
    }

    @Test
    void everyByteComesBackAndEverySendIsAccountedFor() throws Exception {
        String replay = System.getProperty("loriffm.swarm.replay");
        long seed = Long.getLong("loriffm.swarm.seed", ThreadLocalRandom.current().nextLong());
        int connections = Integer.getInteger("loriffm.swarm.connections", 300);
        int concurrency = Integer.getInteger("loriffm.swarm.concurrency", 40);
        int tlsPercent = Integer.getInteger("loriffm.swarm.tlsPercent", 30);
        long seconds = Long.getLong("loriffm.swarm.seconds", 0);
        long start = System.nanoTime();
        List<String> violations = new ArrayList<>();
        long waves = 0;
        Swarm.Totals all = new Swarm.Totals();
        long arenasBefore = NativeAccounting.liveArenas();
        long sessionsBefore = NativeAccounting.liveSslSessions();
        try (Swarm swarm = new Swarm(3, 2)) {
            if (replay != null) {
                String[] parts = replay.split(",");
                all.add(swarm.replay(Long.parseLong(parts[0]), parts.length > 1 && parts[1].equals("tls")));
            } else {
                // One wave by default; a soak repeats waves (seeds continue from the first) until its time is up.
                long waveSeed = seed;
                do {
                    System.out.printf("swarm wave %d: seed %d (rerun with -Dloriffm.swarm.seed=%d)%n", waves, waveSeed,
                            waveSeed);
                    all.add(swarm.run(waveSeed, connections, concurrency, tlsPercent));
                    waves++;
                    waveSeed = waveSeed * 6364136223846793005L + 1442695040888963407L;
                } while (System.nanoTime() - start < seconds * 1_000_000_000L);
            }
            violations.addAll(swarm.violations());
            long loopFailures = swarm.loopFailures();
            if (loopFailures > 0) {
                violations.add(loopFailures + " exception(s) reached the event loops (logged above)");
            }
        }
        if (NativeAccounting.liveArenas() != arenasBefore || NativeAccounting.liveSslSessions() != sessionsBefore) {
            violations.add("native memory not released: arenas " + arenasBefore + " -> " + NativeAccounting.liveArenas()
                    + ", SSL sessions " + sessionsBefore + " -> " + NativeAccounting.liveSslSessions());
        }
        System.out.printf("swarm: %d wave(s), %s in %.1f s, %d violation(s)%n", waves, all,
                (System.nanoTime() - start) / 1e9, violations.size());
        assertEquals(List.of(), violations.stream().limit(20).toList(), "swarm seed " + seed);
    }
}
