package dist.scheduler;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The scheduler's class cache keeps within its count and byte bounds, least recently used out first. */
class CodeRelayCacheTest {

    private static String slot(String client, String cls) {
        return client + '\0' + cls;
    }

    @Test
    void theLeastRecentlyUsedGoesFirstPastTheCountOrTheBytes() {
        CodeRelay.ClassCache cache = new CodeRelay.ClassCache(3, 100);
        cache.put(slot("a", "A"), new byte[10]);
        cache.put(slot("a", "B"), new byte[10]);
        cache.put(slot("b", "C"), new byte[10]);
        assertNotNull(cache.get(slot("a", "A"))); // used: B is now the eldest
        cache.put(slot("b", "D"), new byte[10]);
        assertEquals(3, cache.size());
        assertNull(cache.get(slot("a", "B")), "past the count, the least recently used went");
        assertNotNull(cache.get(slot("a", "A")));

        cache.put(slot("b", "E"), new byte[85]); // 10 + 10 + 10 + 85 > 100
        assertTrue(cache.bytes() <= 100, "bytes: " + cache.bytes());
        assertNotNull(cache.get(slot("b", "E")));

        cache.put(slot("c", "Huge"), new byte[101]);
        assertNull(cache.get(slot("c", "Huge")), "a class larger than the whole cache is not kept");
        assertNotNull(cache.get(slot("b", "E")), "and pushes nothing out");
    }

    @Test
    void aClientsClassesGoWithIt() {
        CodeRelay.ClassCache cache = new CodeRelay.ClassCache(100, 1000);
        cache.put(slot("a", "A"), new byte[10]);
        cache.put(slot("ab", "A"), new byte[20]);
        cache.put(slot("a", "B"), new byte[30]);
        cache.removeClient("a");
        assertEquals(1, cache.size());
        assertEquals(20, cache.bytes());
        assertNotNull(cache.get(slot("ab", "A")), "a client whose id starts alike keeps its classes");
    }
}
