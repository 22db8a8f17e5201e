package dist.client;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class ShapesTest {
    record Leaf(int n) {
    }

    @Test
    void collectsInOrderAndRebuildsTheSameShape() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", new Leaf(1));
        m.put("b", List.of(new Leaf(2), "x", new Object[]{new Leaf(3)}));
        m.put("c", new LinkedHashSet<>(List.of(new Leaf(4), new Leaf(5))));
        List<Leaf> seen = new ArrayList<>();
        Shapes.collect(m, Leaf.class, seen::add);
        assertEquals(List.of(new Leaf(1), new Leaf(2), new Leaf(3), new Leaf(4), new Leaf(5)), seen);

        Object out = Shapes.rebuild(m, Leaf.class, l -> l.n() * 10);
        Map<?, ?> r = (Map<?, ?>) out;
        assertEquals(List.of("a", "b", "c"), new ArrayList<>(r.keySet()));
        assertEquals(10, r.get("a"));
        List<?> b = (List<?>) r.get("b");
        assertEquals(20, b.get(0));
        assertEquals("x", b.get(1));
        assertArrayEquals(new Object[]{30}, (Object[]) b.get(2));
        assertEquals(List.of(40, 50), new ArrayList<>((Set<?>) r.get("c")));
    }

    @Test
    void plainValuesStayAsTheyAre() {
        assertEquals("s", Shapes.rebuild("s", Leaf.class, l -> 0));
        assertEquals(7, Shapes.rebuild(new Leaf(7), Leaf.class, Leaf::n));
    }
}
