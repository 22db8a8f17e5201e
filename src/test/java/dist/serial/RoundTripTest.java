package dist.serial;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dist.serial.Samples.Color;
import dist.serial.Samples.Person;
import dist.serial.Samples.Point;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class RoundTripTest {

    private final Serializer s = Serializer.defaults();

    private Object roundTrip(Object v) {
        return s.decode(s.encode(v));
    }

    /** A varint's bytes, the plain way: 7 bits a byte, low first, the top bit set on all but the last. */
    private static int varintBytes(int v) {
        int n = 1;
        while ((v & ~0x7F) != 0) {
            v >>>= 7;
            n++;
        }
        return n;
    }

    @Test
    void intsAtEveryVarintBoundaryRoundTripInTheirShortestForm() {
        List<Integer> values = new ArrayList<>(List.of(0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE));
        for (int bits = 6; bits <= 31; bits++) {
            int edge = 1 << bits;
            values.addAll(List.of(edge - 1, edge, edge + 1, -edge - 1, -edge, -edge + 1));
        }
        Random r = new Random(7);
        for (int i = 0; i < 10_000; i++) {
            values.add(r.nextInt() >> r.nextInt(32));
        }
        int baseline = s.encode(0).length - 1; // the tag and whatever frames a lone Integer
        for (int v : values) {
            assertEquals(v, roundTrip(v), "an Integer " + v);
            int zigzag = (v << 1) ^ (v >> 31);
            assertEquals(baseline + varintBytes(zigzag), s.encode(v).length, "the length of " + v);
        }
        // many in one stream, as record fields: each varint ends where the next begins
        List<Point> points = new ArrayList<>();
        for (int i = 0; i + 1 < values.size(); i += 2) {
            points.add(new Point(values.get(i), values.get(i + 1)));
        }
        assertEquals(points, roundTrip(points));
    }

    @Test
    void randomNestedValuesRoundTrip() {
        long seed = Long.getLong("dist.test.seed", 20240611L);
        Random r = new Random(seed);
        for (int i = 0; i < 5000; i++) {
            Object v = Samples.value(r, 4);
            Object back = roundTrip(v);
            if (!Samples.deepEquals(v, back)) {
                throw new AssertionError("seed " + seed + " value #" + i + ": " + v + " came back as " + back);
            }
        }
    }

    @Test
    void randomValuesRoundTripThroughOobAndAliases() {
        Registry reg = Registry.defaults().alias(Point.class, 1).alias(Samples.Nested.class, 2)
                .alias(Color.class, 3).oobThreshold(100);
        Serializer ser = new Serializer(reg);
        Random r = new Random(7);
        for (int i = 0; i < 2000; i++) {
            Object v = Samples.value(r, 4);
            List<byte[]> oob = new ArrayList<>();
            byte[] bytes = ser.encode(v, oob, null);
            Object back = ser.decode(bytes, oob, null, null);
            assertTrue(Samples.deepEquals(v, back), () -> v + " came back as " + back);
        }
    }

    @Test
    void primitivesAndBoxes() {
        for (Object v : new Object[]{null, true, false, (byte) -1, (short) -300, 'x', '\uffff', 0, -1, Integer.MIN_VALUE,
                Integer.MAX_VALUE, 0L, Long.MIN_VALUE, Long.MAX_VALUE, 1.5f, Float.NaN, -0.0, Double.MAX_VALUE,
                "", "héllo 𝄞", "a".repeat(1000)}) {
            Object back = roundTrip(v);
            assertEquals(v, back);
            if (v != null) {
                assertSame(v.getClass(), back.getClass());
            }
        }
    }

    @Test
    void smallValuesAreCompact() {
        assertEquals(1, s.encode(null).length);
        assertEquals(1, s.encode(true).length);
        assertEquals(2, s.encode(5).length);
        assertEquals(2, s.encode(-5L).length);
        assertEquals(5, s.encode("abc").length);
        assertEquals(1 + 1 + 3 * 2, s.encode(List.of(1, 2, 3)).length);
    }

    @Test
    void primitiveArrays() {
        Object[] arrays = {new byte[]{1, 2}, new boolean[]{true, false, true, true, false, false, true, false, true},
                new short[]{-1, 300}, new char[]{'a', '\u1234'}, new int[]{0, -5, Integer.MAX_VALUE},
                new long[]{Long.MIN_VALUE, 1}, new float[]{1.5f, Float.NaN}, new double[]{-0.0, 1e300},
                new String[]{"a", null}, new Object[]{1, "x", null}, new int[0][]};
        for (Object a : arrays) {
            Object back = roundTrip(a);
            assertSame(a.getClass(), back.getClass());
            assertTrue(Samples.deepEquals(a, back), () -> Arrays.deepToString(new Object[]{a}));
        }
    }

    @Test
    void collectionsKeepOrderAndKind() {
        Map<String, Integer> lhm = new LinkedHashMap<>();
        lhm.put("z", 1);
        lhm.put("a", 2);
        lhm.put("m", 3);
        Object back = roundTrip(lhm);
        assertInstanceOf(LinkedHashMap.class, back);
        assertEquals(List.of("z", "a", "m"), new ArrayList<>(((Map<?, ?>) back).keySet()));

        Map<String, Integer> mapOf = Map.of("q", 1, "b", 2, "k", 3);
        assertEquals(new ArrayList<>(mapOf.keySet()), new ArrayList<>(((Map<?, ?>) roundTrip(mapOf)).keySet()));

        Set<String> lhs = new LinkedHashSet<>(List.of("z", "a", "m"));
        Object backSet = roundTrip(lhs);
        assertInstanceOf(LinkedHashSet.class, backSet);
        assertEquals(List.of("z", "a", "m"), new ArrayList<>((Set<?>) backSet));

        assertEquals(List.of(3, 1, 2), roundTrip(List.of(3, 1, 2)));
        assertInstanceOf(TreeMap.class, roundTrip(new TreeMap<>(Map.of("b", 1, "a", 2))));
        assertInstanceOf(TreeSet.class, roundTrip(new TreeSet<>(Set.of(3, 1))));
        TreeSet<String> reversed = new TreeSet<>(java.util.Comparator.reverseOrder());
        reversed.addAll(List.of("a", "b", "c"));
        assertEquals(List.of("c", "b", "a"), new ArrayList<>((Set<?>) roundTrip(reversed)));
        assertEquals(Map.of(), roundTrip(new HashMap<>()));
        assertEquals(List.of(1, 2), roundTrip(new java.util.ArrayDeque<>(List.of(1, 2))));
    }

    @Test
    void optionalRecordsEnums() {
        assertEquals(Optional.empty(), roundTrip(Optional.empty()));
        assertEquals(Optional.of(List.of("x")), roundTrip(Optional.of(List.of("x"))));
        Person p = new Person("Ada", 36, List.of("math"), Color.BLUE, Optional.of("countess"));
        assertEquals(p, roundTrip(p));
        assertSame(Color.BLUE, roundTrip(Color.BLUE));
        assertEquals(new Samples.Empty(), roundTrip(new Samples.Empty()));
        assertEquals(Samples.hidden("s"), roundTrip(Samples.hidden("s")));
    }

    @Test
    void refsComeBackOrAreReplaced() {
        List<Object> v = List.of(new Ref("a"), Map.of("k", new Ref("b")));
        assertEquals(v, roundTrip(v));
        Map<String, Object> values = Map.of("a", 1, "b", "two");
        Object back = s.decode(s.encode(v), null, null, values::get);
        assertEquals(List.of(1, Map.of("k", "two")), back);
    }

    /** Something the serializer cannot encode by itself, as a client's future is. */
    static final class Handle {
        final String key;

        Handle(String key) {
            this.key = key;
        }
    }

    @Test
    void replacerTurnsObjectsIntoRefs() {
        List<Object> v = List.of(new Handle("x"), 5, List.of(new Handle("y")));
        assertThrows(EncodeException.class, () -> new Serializer(Registry.defaults().strict(true)).encode(v));
        byte[] bytes = s.encode(v, null, o -> o instanceof Handle h ? new Ref(h.key) : o);
        assertEquals(List.of(new Ref("x"), 5, List.of(new Ref("y"))), s.decode(bytes));
        assertEquals(List.of("X", 5, List.of("Y")), s.decode(bytes, null, null, String::toUpperCase));
    }

    @Test
    void oobByteArraysAreNotCopied() {
        byte[] big = new byte[5000];
        new Random(1).nextBytes(big);
        byte[] small = new byte[10];
        List<byte[]> oob = new ArrayList<>();
        byte[] bytes = s.encode(List.of(big, small, Map.of("b", big)), oob, null);
        assertEquals(2, oob.size());
        assertSame(big, oob.get(0));
        assertTrue(bytes.length < 100, "big array stayed out of the encoding");
        List<?> back = (List<?>) s.decode(bytes, oob, null, null);
        assertSame(big, back.get(0));
        assertNotSame(small, back.get(1));
        assertArrayEquals(small, (byte[]) back.get(1));
        assertSame(big, ((Map<?, ?>) back.get(2)).get("b"));

        DecodeException none = assertThrows(DecodeException.class, () -> s.decode(bytes));
        assertTrue(none.getMessage().contains("out-of-band"), none.getMessage());
        assertThrows(DecodeException.class, () -> s.decode(bytes, List.of(big), null, null));
        // without an oob list the array travels inline
        assertArrayEquals(big, (byte[]) s.decode(s.encode(big)));
    }

    @Test
    void aliasesShrinkTheEncodingAndMustMatch() {
        Point p = new Point(1, 2);
        Serializer aliased = new Serializer(Registry.defaults().alias(Point.class, 7));
        byte[] plain = s.encode(p);
        byte[] compact = aliased.encode(p);
        assertEquals(1 + 1 + 2, compact.length);
        assertTrue(plain.length > compact.length + Point.class.getName().length() - 1);
        assertEquals(p, aliased.decode(compact));
        DecodeException e = assertThrows(DecodeException.class, () -> s.decode(compact));
        assertTrue(e.getMessage().contains("alias 7"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Registry.defaults().alias(Point.class, 1).alias(Person.class, 1));
    }

    @Test
    void classNamesAreWrittenOncePerStream() {
        List<Point> ten = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ten.add(new Point(i, i));
        }
        int nameLength = Point.class.getName().length();
        assertTrue(s.encode(ten).length < 2 * nameLength + 10 * 5, "name written once");
    }

    @Test
    void aListOfOneRecordClassWritesItsClassAndTagsOnce() {
        List<Point> many = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            many.add(new Point(i % 100, -i));
        }
        byte[] bytes = s.encode(many);
        assertEquals(many, roundTrip(many));
        // a point is its two varints: no per-element tag or class
        assertTrue(bytes.length < 1000 * 4 + Point.class.getName().length() + 10, bytes.length + " bytes");
        Object back = s.decode(bytes);
        assertInstanceOf(ArrayList.class, back);
        ((List<Object>) back).add(new Point(1, 1)); // as mutable as any decoded list
    }

    @Test
    void listsThatAreNotAllOneRecordClassKeepTheirElements() {
        Person p = new Person("Ada", 36, List.of("math"), Color.BLUE, Optional.empty());
        List<Object> mixed = new ArrayList<>(List.of(new Point(1, 2), p, new Point(3, 4)));
        assertEquals(mixed, roundTrip(mixed));
        List<Point> withNull = new ArrayList<>(Arrays.asList(new Point(1, 2), null, new Point(3, 4)));
        assertEquals(withNull, roundTrip(withNull));
        assertEquals(List.of(p, p), roundTrip(List.of(p, p)));
        // records in the list still share what they share, and the list itself is shared
        List<String> tags = new ArrayList<>(List.of("t"));
        List<Samples.Nested> nested = List.of(new Samples.Nested(new Point(1, 1), Map.of("tags", tags)),
                new Samples.Nested(new Point(2, 2), Map.of("tags", tags)));
        List<Object> outer = new ArrayList<>();
        outer.add(nested);
        outer.add(nested);
        List<?> back = (List<?>) roundTrip(outer);
        assertSame(back.get(0), back.get(1));
        List<?> inner = (List<?>) back.get(0);
        assertSame(((Samples.Nested) inner.get(0)).attrs().get("tags"), ((Samples.Nested) inner.get(1)).attrs().get("tags"));
    }

    @Test
    void registryChangesApplyToExistingSerializers() {
        Registry reg = Registry.defaults();
        Serializer ser = new Serializer(reg);
        int before = ser.encode(new Point(1, 2)).length;
        reg.alias(Point.class, 3);
        assertTrue(ser.encode(new Point(1, 2)).length < before);
    }
}
