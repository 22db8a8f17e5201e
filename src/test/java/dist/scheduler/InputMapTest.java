package dist.scheduler;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A ComputeTask's input maps answer as the LinkedHashMap they replace, in input order, and stay read-only. */
class InputMapTest {

    @Test
    void answersAsALinkedHashMapInInputOrder() {
        String[] keys = {"z-2", "a-1", "m-3"};
        Map<String, Long> sizes = new InputMap<>(keys, new Object[] {8L, 16L, -1L});
        LinkedHashMap<String, Long> model = new LinkedHashMap<>();
        model.put("z-2", 8L);
        model.put("a-1", 16L);
        model.put("m-3", -1L);
        assertEquals(model, sizes);
        assertEquals(sizes, model);
        assertEquals(model.hashCode(), sizes.hashCode());
        assertEquals(new ArrayList<>(model.keySet()), new ArrayList<>(sizes.keySet()), "input order");
        assertEquals(List.copyOf(model.values()), List.copyOf(sizes.values()));
        assertEquals(16L, sizes.get("a-1"));
        assertNull(sizes.get("b"));
        assertTrue(sizes.containsKey("m-3"));
        assertFalse(sizes.containsKey(null));
        assertEquals(model.toString(), sizes.toString());
    }

    @Test
    void aComputeTaskWithThemCrossesTheWireAsWithLinkedHashMaps() {
        String[] keys = {"b", "a"};
        Map<String, List<String>> who = new InputMap<>(keys, new Object[] {List.of("h:1"), List.of("h:2", "h:3")});
        Map<String, Long> sizes = new InputMap<>(keys, new Object[] {5L, 7L});
        var codec = dist.protocol.MessageCodec.get();
        var back = (dist.protocol.Message.ComputeTask) codec.decode(codec.encode(
                new dist.protocol.Message.ComputeTask("k", new byte[] {1}, who, sizes, 3)));
        assertEquals(who, back.whoHas());
        assertEquals(List.of("b", "a"), new ArrayList<>(back.whoHas().keySet()), "input order kept");
        assertEquals(sizes, back.nbytes());
    }

    @Test
    void isReadOnly() {
        Map<String, Long> sizes = new InputMap<>(new String[] {"x"}, new Object[] {1L});
        assertThrows(UnsupportedOperationException.class, () -> sizes.put("y", 2L));
        assertThrows(UnsupportedOperationException.class, () -> sizes.entrySet().iterator().next().setValue(3L));
        assertThrows(UnsupportedOperationException.class, () -> sizes.keySet().iterator().remove());
        assertEquals(Map.of(), new InputMap<>(new String[0], new Object[0]));
    }
}
