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

    @Test
    void pureKeysAreDeterministicHashes() {
        String a = Keys.pure("inc", new byte[]{1, 2, 3});
        assertEquals(a, Keys.pure("inc", new byte[]{1, 2, 3}));
        assertNotEquals(a, Keys.pure("inc", new byte[]{1, 2, 4}));
        assertTrue(a.matches("inc-[0-9a-f]{32}"), a);
        assertNotEquals(Keys.unique("inc"), Keys.unique("inc"));
    }
}
