package dist.security;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The short fuzz campaign of the suite: 50,000 random and mutated handshakes and frames against the
 * scheduler, a worker and a TLS-and-token listener while honest peers keep working. The long one is
 * {@code ./run.sh fuzz} (10,000,000 inputs).
 */
class FuzzTest {

    @Test
    @Timeout(240)
    void listenersSurviveHostileInputAndKeepServing() throws Exception {
        FuzzRun.Figures f = FuzzRun.run(Long.getLong("fuzz.inputs", 50_000), 16, 20261125L);
        System.out.println("fuzz: " + f);
        assertTrue(f.report().inputs.get() >= 50_000, f.toString());
        assertEquals(0, f.report().hangs.get(), f.toString());
        // every listener, the dashboard too, saw inputs past 4 KB and slow peers
        assertTrue(f.report().http.get() > 0 && f.report().large.get() > 0 && f.report().slow.get() > 0, f.toString());
        assertEquals(0, f.report().connectFailures.get(), f.toString());
        assertNull(f.honestFailure(), f.toString());
        assertTrue(f.honestTasks() > 0 && f.honestPings() > 0, f.toString());
        assertEquals(0, f.honestStalls(), "honest tasks stalled: " + f);
        assertEquals(0, f.severeLogs(), f.toString());
        assertTrue(f.threadsAfter() <= f.threadsBefore() + 2, f.toString());
        assertTrue(f.heapAfter() <= f.heapBefore() + (64L << 20), f.toString());
        if (f.fdsBefore() >= 0) {
            assertTrue(f.fdsAfter() <= f.fdsBefore() + 8, f.toString());
        }
    }
}
