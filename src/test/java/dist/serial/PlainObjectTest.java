package dist.serial;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dist.config.Config;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Ordinary classes as values: field by field, identity kept, and the strict mode that refuses them. */
class PlainObjectTest {

    static class Animal implements Serializable {
        protected String name;
        private final int legs;
        transient int visits = 7;

        Animal() {
            this.legs = -1;
        }

        Animal(String name, int legs) {
            this.name = name;
            this.legs = legs;
        }

        int legs() {
            return legs;
        }
    }

    static class Dog extends Animal {
        private String name; // hides Animal.name: both travel
        Dog friend;
        Samples.Color color;
        Object anything;
        long[] scores;
        double weight;
        char initial;
        short s;
        byte b;
        boolean good;
        float f;

        Dog() {
        }

        Dog(String superName, String name, int legs) {
            super(superName, legs);
            this.name = name;
        }
    }

    /** No no-arg constructor: rebuilt through this one, given null and 0, then its fields are set. */
    static final class Account {
        private final String owner;
        private final long cents;
        private final List<String> history;

        Account(String owner, long cents, List<String> history) {
            this.owner = owner;
            this.cents = cents;
            this.history = history;
        }
    }

    /** Its only constructor rejects the null it would be rebuilt with. */
    static final class Picky {
        final String must;

        Picky(String must) {
            this.must = Objects.requireNonNull(must, "must");
        }
    }

    /** Its fewest-parameter constructor refuses null; the next one takes the defaults. */
    static final class TwoWays {
        String label;
        int a;

        TwoWays(String label) {
            this.label = Objects.requireNonNull(label);
        }

        TwoWays(int a, int b) {
            this.a = a + b;
        }
    }

    static final class Node {
        int value;
        Node next;
        List<Node> children = new ArrayList<>();
        Object owner;
    }

    record Holder(String label, Dog dog, List<Dog> pack) {}

    private final Serializer s = new Serializer(Registry.defaults().strict(false));

    @SuppressWarnings("unchecked")
    private <T> T roundTrip(T v) {
        return (T) s.decode(s.encode(v));
    }

    @Test
    void inheritanceHiddenFieldsFinalsAndEveryPrimitive() {
        Dog d = new Dog("animal-name", "rex", 4);
        d.color = Samples.Color.BLUE;
        d.anything = Map.of("k", 1);
        d.scores = new long[]{1, -2, Long.MAX_VALUE};
        d.weight = 12.5;
        d.initial = 'é';
        d.s = -3;
        d.b = (byte) 200;
        d.good = true;
        d.f = 1.5f;
        d.visits = 99;
        Dog back = roundTrip(d);
        assertNotSame(d, back);
        assertEquals("rex", back.name);
        assertEquals("animal-name", ((Animal) back).name);
        assertEquals(4, back.legs(), "a final field is set too");
        assertSame(Samples.Color.BLUE, back.color);
        assertEquals(Map.of("k", 1), back.anything);
        assertArrayEquals(new long[]{1, -2, Long.MAX_VALUE}, back.scores);
        assertEquals(12.5, back.weight);
        assertEquals('é', back.initial);
        assertEquals(-3, back.s);
        assertEquals((byte) 200, back.b);
        assertTrue(back.good);
        assertEquals(1.5f, back.f);
        assertEquals(7, back.visits, "a transient field is not sent: it keeps what the constructor gave it");
    }

    @Test
    void nullFieldsStayNull() {
        Dog back = roundTrip(new Dog());
        assertNull(back.name);
        assertNull(back.friend);
        assertNull(back.scores);
        assertNull(back.anything);
        assertNull(back.color);
    }

    @Test
    void aClassWithoutNoArgConstructorIsRebuiltThroughAnother() {
        Account a = new Account("ann", 12_345, List.of("open", "deposit"));
        Account back = roundTrip(a);
        assertEquals("ann", back.owner);
        assertEquals(12_345, back.cents);
        assertEquals(List.of("open", "deposit"), back.history);
    }

    @Test
    void theNextConstructorIsTriedWhenOneRefusesTheDefaults() {
        TwoWays t = new TwoWays("x");
        t.a = 5;
        TwoWays back = roundTrip(t);
        assertEquals("x", back.label);
        assertEquals(5, back.a);
        assertEquals("x", ((TwoWays) roundTrip(List.of(t)).get(0)).label, "and again, from the one that worked");
    }

    @Test
    void aClassInUseGetsACompiledPlanThatWritesAndReadsTheSameBytes() {
        Dog d = new Dog("a", "rex", 4);
        d.friend = d;
        d.scores = new long[]{3};
        d.initial = 'x';
        d.s = -7;
        d.b = 9;
        d.f = 0.5f;
        Holder h = new Holder("h", d, List.of(d));
        byte[] cold = s.encode(h);
        for (int i = 0; i < ClassInfo.Shape.HOT + 5; i++) {
            s.decode(s.encode(h));
        }
        for (Class<?> c : List.of(Dog.class, Holder.class)) {
            Plan plan = s.registry().snap().info(c).shape.plan();
            assertTrue(plan != null && plan.getClass().isHidden(), "a hot class's handles are constants of a hidden class");
        }
        assertArrayEquals(cold, s.encode(h), "the plan writes what the slot walk wrote");
        Holder back = (Holder) s.decode(cold);
        assertSame(back.dog(), back.dog().friend);
        assertEquals("rex", back.dog().name);
        assertEquals(-7, back.dog().s);
        assertEquals('x', back.dog().initial);
        assertEquals(0.5f, back.dog().f);
        assertArrayEquals(new long[]{3}, back.dog().scores);
    }

    @Test
    void aConstructorThatRefusesDefaultsIsNamedWithTheFix() {
        byte[] bytes = s.encode(List.of(new Picky("x")));
        DecodeException e = assertThrows(DecodeException.class, () -> s.decode(bytes));
        assertTrue(e.getMessage().contains(Picky.class.getName()), e.getMessage());
        assertTrue(e.getMessage().contains("no-arg constructor") && e.getMessage().contains("Registry.register("),
                e.getMessage());
        assertEquals("after", s.decode(s.encode("after")), "the reader carries on");
    }

    @Test
    void cyclesComeBackAsCycles() {
        Node a = new Node();
        Node b = new Node();
        a.value = 1;
        b.value = 2;
        a.next = b;
        b.next = a;
        Node self = new Node();
        self.next = self;
        Node backA = roundTrip(a);
        assertEquals(2, backA.next.value);
        assertSame(backA, backA.next.next);
        Node backSelf = roundTrip(self);
        assertSame(backSelf, backSelf.next);
    }

    @Test
    void cyclesThroughListsAndMapsComeBack() {
        Node parent = new Node();
        Node child = new Node();
        parent.children.add(child);
        child.owner = parent.children; // the list that holds it
        Map<String, Object> registry = new HashMap<>();
        registry.put("me", registry);
        parent.owner = registry;
        Node back = roundTrip(parent);
        assertSame(back.children, back.children.get(0).owner);
        Map<?, ?> m = (Map<?, ?>) back.owner;
        assertSame(m, m.get("me"));

        List<Object> selfList = new ArrayList<>();
        selfList.add(selfList);
        List<?> backList = roundTrip(selfList);
        assertSame(backList, backList.get(0));
    }

    @Test
    void sharedReferencesStayShared() {
        Dog shared = new Dog("a", "shared", 3);
        Dog x = new Dog("a", "x", 4);
        Dog y = new Dog("a", "y", 4);
        x.friend = shared;
        y.friend = shared;
        List<String> names = new ArrayList<>(List.of("n"));
        x.anything = names;
        y.anything = names;
        List<Dog> back = roundTrip(List.of(x, y, shared));
        assertSame(back.get(0).friend, back.get(1).friend);
        assertSame(back.get(2), back.get(0).friend);
        assertSame(back.get(0).anything, back.get(1).anything);
        byte[] once = s.encode(List.of(x, y, shared));
        Dog other = new Dog("a", "shared", 3);
        y.friend = other;
        assertTrue(once.length < s.encode(List.of(x, y, shared)).length, "a shared object is written once");
    }

    @Test
    void arraysOfObjectsKeepTypeAndIdentity() {
        Dog d = new Dog("a", "d", 4);
        Dog[] dogs = {d, null, d, new Dog("b", "e", 3)};
        Dog[] back = roundTrip(dogs);
        assertEquals(4, back.length);
        assertNull(back[1]);
        assertSame(back[0], back[2]);
        assertEquals("e", back[3].name);
        Object[] selfArray = new Object[1];
        selfArray[0] = selfArray;
        Object[] backSelf = roundTrip(selfArray);
        assertSame(backSelf, backSelf[0]);
    }

    @Test
    void objectsInsideCollectionsAndRecordsAndRecordsInsideObjects() {
        Dog d = new Dog("a", "rex", 4);
        Map<String, Object> m = new HashMap<>();
        m.put("dog", d);
        m.put("list", List.of(d));
        m.put("holder", new Holder("h", d, List.of(d, d)));
        Map<String, Object> back = roundTrip(m);
        Dog bd = (Dog) back.get("dog");
        assertSame(bd, ((List<?>) back.get("list")).get(0));
        Holder h = (Holder) back.get("holder");
        assertSame(bd, h.dog());
        assertSame(bd, h.pack().get(1));

        Dog withRecord = new Dog();
        withRecord.anything = new Samples.Person("p", 3, List.of("t"), Samples.Color.RED, java.util.Optional.of("n"));
        assertEquals(withRecord.anything, roundTrip(withRecord).anything);
    }

    @Test
    void aCycleThroughARecordIsCutThereAndTheObjectsStayShared() {
        Dog d = new Dog("a", "d", 4);
        Holder h = new Holder("h", d, List.of());
        d.anything = h;
        Holder back = roundTrip(h);
        Holder inner = (Holder) back.dog().anything;
        assertEquals("h", inner.label());
        assertSame(back.dog(), inner.dog());
    }

    @Test
    void jdkClassesWhosePackagesAreClosedSayWhatToAdd() {
        EncodeException e = assertThrows(EncodeException.class,
                () -> s.encode(List.of(new java.util.concurrent.atomic.AtomicLong(3))));
        assertTrue(e.getMessage().contains("java.util.concurrent.atomic.AtomicLong"), e.getMessage());
        assertTrue(e.getMessage().contains("--add-opens java.base/java.util.concurrent.atomic="), e.getMessage());
        assertTrue(e.getMessage().contains("Registry.register("), e.getMessage());

        // written by hand: the reader names the class and the fix, and carries on
        SerialWriterProbe probe = new SerialWriterProbe();
        byte[] forged = probe.objectTagged("java.util.concurrent.atomic.AtomicLong");
        DecodeException d = assertThrows(DecodeException.class, () -> s.decode(forged));
        assertTrue(d.getMessage().contains("--add-opens"), d.getMessage());
    }

    /** Bytes of an OBJECT tag naming any class, no fields: as a forged or stale input would. */
    static final class SerialWriterProbe {
        byte[] objectTagged(String className) {
            byte[] name = className.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] b = new byte[3 + name.length];
            b[0] = (byte) Tags.OBJECT;
            b[1] = 0; // a new name
            b[2] = (byte) name.length;
            System.arraycopy(name, 0, b, 3, name.length);
            return b;
        }
    }

    @Test
    void strictModeRefusesWhatIsNotAllowListed() {
        Serializer strict = new Serializer(Registry.defaults().strict(true));
        assertTrue(strict.registry().isStrict());
        EncodeException e = assertThrows(EncodeException.class, () -> strict.encode(new Dog()));
        assertTrue(e.getMessage().contains(Dog.class.getName()) && e.getMessage().contains("Registry.allow(")
                && e.getMessage().contains(Registry.STRICT_KEY), e.getMessage());
        byte[] open = s.encode(new Dog("a", "b", 4));
        DecodeException d = assertThrows(DecodeException.class, () -> strict.decode(open));
        assertTrue(d.getMessage().contains(Dog.class.getName()) && d.getMessage().contains("Registry.allow("),
                d.getMessage());
        assertEquals(List.of(1), strict.decode(strict.encode(List.of(1))), "the reader carries on");

        Serializer listed = new Serializer(Registry.defaults().strict(true).allow(Dog.class.getName()));
        Dog d2 = new Dog("a", "b", 4);
        d2.friend = d2;
        Dog back = (Dog) listed.decode(listed.encode(d2));
        assertSame(back, back.friend);
    }

    @Test
    void theConfigKeyChoosesTheDefaultMode() {
        assertTrue(Config.KEYS.containsKey(Registry.STRICT_KEY));
        assertEquals("false", Config.KEYS.get(Registry.STRICT_KEY).defaultValue());
        assertTrue(!Registry.defaults().isStrict() && !Serializer.defaults().registry().isStrict());
        assertInstanceOf(Dog.class, Serializer.defaults().decode(Serializer.defaults().encode(new Dog())));
        try (Config.Override o = Config.set(Registry.STRICT_KEY, true)) {
            assertTrue(Registry.defaults().isStrict());
            assertTrue(Serializer.defaults().registry().isStrict());
            assertThrows(EncodeException.class, () -> Serializer.defaults().encode(new Dog()));
        }
        assertTrue(!Serializer.defaults().registry().isStrict());
    }

    @Test
    void theClosedRegistryStillRefusesObjectsAndBackReferences() {
        Serializer closed = new Serializer(Registry.defaults().closed());
        assertTrue(closed.registry().isStrict());
        DecodeException d = assertThrows(DecodeException.class, () -> closed.decode(s.encode(new Dog())));
        assertTrue(d.getMessage().contains("refused"), d.getMessage());
        List<Integer> shared = new ArrayList<>(List.of(1));
        byte[] withBackReference = s.encode(List.of(shared, shared));
        assertThrows(DecodeException.class, () -> closed.decode(withBackReference));
        // a closed writer keeps no identity: the same list is written twice, as before
        assertEquals(List.of(List.of(1), List.of(1)), closed.decode(closed.encode(List.of(shared, shared))));
    }

    /** Truncations and bit flips of streams with objects and back-references: decoded, or a DecodeException. */
    @Test
    void garbledObjectStreamsAreRefusedAndTheReaderCarriesOn() {
        Random r = new Random(7);
        List<byte[]> corpus = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Node a = new Node();
            a.value = i;
            a.next = new Node();
            a.next.next = a;
            a.children.add(a.next);
            a.owner = new Dog("x" + i, "y", i);
            Dog d = (Dog) a.owner;
            d.friend = d;
            d.scores = new long[]{i};
            d.anything = new Account("o", i, List.of("h"));
            corpus.add(s.encode(List.of(a, new Holder("h", d, List.of(d)), new Dog[]{d, d})));
        }
        int refused = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] valid = corpus.get(r.nextInt(corpus.size()));
            byte[] input = r.nextBoolean() ? Arrays.copyOf(valid, r.nextInt(valid.length)) : valid.clone();
            if (input.length == valid.length) {
                for (int f = 1 + r.nextInt(3); f > 0; f--) {
                    input[r.nextInt(input.length)] ^= (byte) (1 << r.nextInt(8));
                }
            }
            try {
                s.decode(input);
            } catch (DecodeException expected) {
                refused++;
            } catch (Throwable t) {
                throw new AssertionError("input " + java.util.HexFormat.of().formatHex(input) + " threw " + t, t);
            }
        }
        assertTrue(refused > 1000, "most garbled inputs are refused: " + refused);
        Node back = (Node) ((List<?>) s.decode(corpus.get(0))).get(0);
        assertSame(back, back.next.next);
    }

    @Test
    void backReferencesOutOfRangeAreRefused() {
        byte[] bad = {(byte) Tags.LIST, 1, (byte) Tags.BACKREF, 5};
        DecodeException e = assertThrows(DecodeException.class, () -> s.decode(bad));
        assertTrue(e.getMessage().contains("back-reference"), e.getMessage());
    }
}
