package dist.client;

import org.junit.jupiter.api.Test;

import java.io.Serializable;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

class KeysTest {
    interface SFn extends Function<Integer, Integer>, Serializable {
    }

    static int square(int x) {
        return x * x;
    }

    @Test
    void prefixNamesTheFunction() {
        SFn ref = KeysTest::square;
        SFn lambda = x -> x;
        assertEquals("square", Keys.prefix(ref));
        assertEquals("lambda", Keys.prefix(lambda));
        assertEquals("KeysTest", Keys.prefix(new KeysTest()));
    }

    /** A function that names its keys, as the p2p shuffle's outputs carry their partition: dask's ("name", i) keys. */
    @Test
    void aNamedFunctionGivesItsOwnPrefix() {
        Keys.Named unpack = () -> "p2pShuffleUnpack-7";
        assertEquals("p2pShuffleUnpack-7", Keys.prefix(unpack));
        assertTrue(Keys.pure(Keys.prefix(unpack), new byte[]{1}).matches("p2pShuffleUnpack-7-[0-9a-f]{32}"));
    }

    @Test
    void pureKeysAreDeterministicHashes() {
        String a = Keys.pure("inc", new byte[]{1, 2, 3});
        assertEquals(a, Keys.pure("inc", new byte[]{1, 2, 3}));
        assertNotEquals(a, Keys.pure("inc", new byte[]{1, 2, 4}));
        assertTrue(a.matches("inc-[0-9a-f]{32}"), a);
        assertNotEquals(Keys.unique("inc"), Keys.unique("inc"));
    }

    @Test
    void uniqueKeysAreUuidsNeverRepeatedAcrossThreads() throws Exception {
        java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Thread[] ts = new Thread[4];
        for (int t = 0; t < ts.length; t++) {
            ts[t] = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 50_000; i++) {
                    seen.add(Keys.unique("inc"));
                }
            });
        }
        for (Thread t : ts) {
            t.join(30_000);
        }
        assertEquals(200_000, seen.size(), "every key differs");
        String k = seen.iterator().next();
        assertTrue(k.matches("inc-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), k);
        assertEquals("inc", dist.scheduler.ClusterView.groupOf(k));
    }
}
