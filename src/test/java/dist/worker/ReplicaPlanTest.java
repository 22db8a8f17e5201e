package dist.worker;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Where a replicating worker fetches from, without a peer or a socket. */
class ReplicaPlanTest {
    static final String SELF = "self:1";

    @Test
    void eachKeyComesFromItsFirstSourceGroupedByPeer() {
        Map<String, List<String>> sources = new LinkedHashMap<>();
        sources.put("a", List.of("p:1", "p:2"));
        sources.put("b", List.of("p:1"));
        sources.put("c", List.of(SELF, "p:2"));
        ReplicaPlan plan = new ReplicaPlan(SELF, sources, Map.of());
        assertEquals(Map.of("p:1", List.of("a", "b"), "p:2", List.of("c")), plan.nextRound());
        plan.arrived("a", 10);
        plan.arrived("b", 20);
        plan.arrived("c", 30);
        assertTrue(plan.done());
        assertEquals(Map.of("a", 10L, "b", 20L, "c", 30L), plan.got());
        assertTrue(plan.missing().isEmpty());
    }

    @Test
    void aKeyThatDidNotArriveIsAskedOfItsNextSourceThenIsMissing() {
        ReplicaPlan plan = new ReplicaPlan(SELF, Map.of("a", List.of("p:1", "p:2")), Map.of());
        assertEquals(Map.of("p:1", List.of("a")), plan.nextRound());
        assertEquals(Map.of("p:2", List.of("a")), plan.nextRound(), "p:1 did not have it");
        assertTrue(plan.nextRound().isEmpty());
        assertTrue(plan.done());
        assertEquals(List.of("a"), plan.missing());
        assertTrue(plan.got().isEmpty());
    }

    @Test
    void keysHeldHereAreNotFetchedAndThisWorkerIsNeverASource() {
        Map<String, List<String>> sources = new HashMap<>();
        sources.put("held", List.of("p:1"));
        sources.put("only-self", List.of(SELF));
        sources.put("none", null);
        sources.put(null, List.of("p:1"));
        sources.put("null-source", Arrays.asList(null, "p:3"));
        ReplicaPlan plan = new ReplicaPlan(SELF, sources, Map.of("held", 5L));
        assertEquals(Map.of("p:3", List.of("null-source")), plan.nextRound());
        assertEquals(Map.of("held", 5L), plan.got());
        assertEquals(java.util.Set.of("only-self", "none"), java.util.Set.copyOf(plan.missing()));
        plan.arrived("held", 99); // not asked for: changes nothing
        assertEquals(Map.of("held", 5L), plan.got());
    }
}
