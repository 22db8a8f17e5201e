package dist.scheduler;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The scheduler's pure placement plans: scatter targets, tree copies, excess copies, rebalance moves. */
class PlacementPlannerTest {

    @Test
    void roundRobinGroupedByCoresGivesTheManualsAliceAndBob() {
        Map<String, Integer> ncores = new LinkedHashMap<>();
        ncores.put("alice", 2);
        ncores.put("bob", 2);
        List<String> where = PlacementPlanner.roundRobin(ncores, 10);
        assertEquals(List.of("alice", "alice", "bob", "bob", "alice", "alice", "bob", "bob", "alice", "alice"), where);
        assertThrows(IllegalArgumentException.class, () -> PlacementPlanner.roundRobin(Map.of(), 1));
    }

    @Test
    void replicationIsATreeCopy() {
        List<String> ws = List.of("w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7");
        Map<String, List<String>> holders = new LinkedHashMap<>();
        holders.put("x", List.of("w0"));
        // generation 1: one holder, branching 2 -> two new copies, both from w0
        Map<String, Map<String, List<String>>> g1 = PlacementPlanner.replicationGeneration(holders, ws, 8, 2);
        assertEquals(Set.of("w1", "w2"), g1.keySet());
        assertEquals(List.of("w0"), g1.get("w1").get("x"));
        // generation 2: three holders -> up to six new copies, each holder giving two
        holders.put("x", List.of("w0", "w1", "w2"));
        Map<String, Map<String, List<String>>> g2 = PlacementPlanner.replicationGeneration(holders, ws, 8, 2);
        assertEquals(5, g2.size(), "only five workers lack it");
        assertEquals("w0", g2.get("w3").get("x").get(0));
        assertEquals("w1", g2.get("w5").get("x").get(0));
        // done
        holders.put("x", ws);
        assertTrue(PlacementPlanner.replicationGeneration(holders, ws, 8, 2).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> PlacementPlanner.replicationGeneration(holders, ws, 8, 0));
    }

    @Test
    void excessReplicasNeverDropTheLastCopy() {
        Map<String, List<String>> drop = PlacementPlanner.excessReplicas(
                Map.of("x", List.of("a", "b", "c"), "y", List.of("a")), List.of("a", "b", "c"), 1);
        assertEquals(Map.of("x", List.of("b", "c")), drop);
        assertEquals(Map.of("x", List.of("b", "c")),
                PlacementPlanner.excessReplicas(Map.of("x", List.of("a", "b", "c")), List.of("a", "b", "c"), 0));
    }

    @Test
    void rebalanceMovesFromTheFullestToTheEmptiest() {
        Map<String, List<String>> hasWhat = Map.of("a", List.of("k1", "k2", "k3", "k4"), "b", List.of());
        Map<String, Long> sizes = Map.of("k1", 10L, "k2", 10L, "k3", 10L, "k4", 10L);
        List<PlacementPlanner.Move> moves = PlacementPlanner.rebalance(hasWhat, sizes, List.of("a", "b"), sizes.keySet());
        assertEquals(2, moves.size());
        assertTrue(moves.stream().allMatch(m -> m.from().equals("a") && m.to().equals("b")));
        // one big key cannot be split: moving it would not narrow the gap
        assertTrue(PlacementPlanner.rebalance(Map.of("a", List.of("big"), "b", List.of()), Map.of("big", 100L),
                List.of("a", "b"), Set.of("big")).isEmpty());
        // a key held by two full workers moves once, never back onto the source of its first move
        Map<String, List<String>> twice = Map.of("a", List.of("k", "a1", "a2"), "b", List.of("k", "b1"),
                "c", List.of(), "d", List.of());
        List<PlacementPlanner.Move> ms = PlacementPlanner.rebalance(twice, Map.of("k", 50L, "a1", 30L, "a2", 30L,
                "b1", 40L), List.of("a", "b", "c", "d"), Set.of("k", "a1", "a2", "b1"));
        assertEquals(1, ms.stream().filter(m -> m.key().equals("k")).count(), ms.toString());
        // keys outside the movable set stay
        assertTrue(PlacementPlanner.rebalance(hasWhat, sizes, List.of("a", "b"), Set.of()).isEmpty());
    }

}
