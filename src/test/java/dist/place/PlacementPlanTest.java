package dist.place;

import dist.client.Placement;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.*;

/** The client's placement names: key prefixes and worker restrictions. */
class PlacementPlanTest {

    @Test
    void keyPrefixesDropHashesAndNumbers() {
        assertEquals("inc", Placement.keyPrefix("inc-1c8dd6be1c21646c71f76c16d09304ea"));
        assertEquals("inc", Placement.keyPrefix("inc-3f1c2a4b-1111-2222-3333-444455556666"));
        assertEquals("my-data", Placement.keyPrefix("my-data-7"));
        assertEquals("x", Placement.keyPrefix("x"));
        // a uuid whose leading parts have no digit: summaries group it as the dashboard does
        String key = "add-abcdefab-beef-4cad-8bad-0123456789ab";
        assertEquals("add", Placement.keyPrefix(key));
        assertEquals(dist.scheduler.ClusterView.groupOf(key), Placement.keyPrefix(key));
    }

    @Test
    void restrictionsMatchAddressHostOrName() {
        assertTrue(Placement.matches("10.0.0.1:9000", "alice", "alice"));
        assertTrue(Placement.matches("10.0.0.1:9000", "alice", "10.0.0.1"));
        assertTrue(Placement.matches("10.0.0.1:9000", "alice", "10.0.0.1:9000"));
        assertFalse(Placement.matches("10.0.0.1:9000", "alice", "10.0.0.1:9001"));
    }
}
