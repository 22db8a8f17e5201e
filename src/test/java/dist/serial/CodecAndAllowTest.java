package dist.serial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CodecAndAllowTest {

    /** A plain class: in a strict registry it needs a codec or an allow-list entry. */
    static class Pt {
        final int x;
        final String label;

        Pt(int x, String label) {
            this.x = x;
            this.label = label;
        }
    }

    static class NamedPt extends Pt {
        NamedPt(int x) {
            super(x, "named");
        }
    }

    static final class PtCodec implements ClassCodec<Pt> {
        @Override
        public void write(Pt p, SerialWriter out) {
            out.writeZigzag(p.x);
            out.writeString(p.label);
            out.writeObject(List.of(p.x));
        }

        @Override
        public Pt read(SerialReader in) {
            int x = in.readZigzagInt();
            String label = in.readString();
            List<?> check = (List<?>) in.readObject();
            assertEquals(List.of(x), check);
            return new Pt(x, label);
        }
    }

    static class Base {
        protected long id;
        transient String cache = "not sent";
    }

    static class Bean extends Base {
        private final String name;
        private int[] values;
        private Map<String, Object> extra;
        private char c;
        private boolean flag;
        private double d;
        static int ignoredStatic = 9;

        Bean() {
            this.name = "default";
        }

        Bean(String name) {
            this.name = name;
        }
    }

    static class NoDefault {
        int v;

        NoDefault(int v) {
            this.v = v;
        }
    }

    private final Serializer plain = new Serializer(Registry.defaults().strict(true));

    @Test
    void codecsEncodeTheirClassAndSubclasses() {
        Serializer ser = new Serializer(Registry.defaults().register(Pt.class, new PtCodec()));
        Pt back = (Pt) ser.decode(ser.encode(new Pt(-4, "four")));
        assertEquals(-4, back.x);
        assertEquals("four", back.label);
        Object sub = ser.decode(ser.encode(List.of(new NamedPt(2))));
        Pt p = (Pt) ((List<?>) sub).get(0);
        assertEquals("named", p.label);
    }

    @Test
    void unknownClassesNameTheClassAndBothFixes() {
        EncodeException e = assertThrows(EncodeException.class, () -> plain.encode(Map.of("k", new Pt(1, "a"))));
        assertTrue(e.getMessage().contains(Pt.class.getName()), e.getMessage());
        assertTrue(e.getMessage().contains("Registry.register("), e.getMessage());
        assertTrue(e.getMessage().contains("Registry.allow(\"" + Pt.class.getName() + "\")"), e.getMessage());

        Serializer withCodec = new Serializer(Registry.defaults().register(Pt.class, new PtCodec()));
        byte[] bytes = withCodec.encode(new Pt(1, "a"));
        DecodeException d = assertThrows(DecodeException.class, () -> plain.decode(bytes));
        assertTrue(d.getMessage().contains(Pt.class.getName()) && d.getMessage().contains("Registry.register("),
                d.getMessage());
    }

    @Test
    void allowListedClassesGoFieldByField() {
        Serializer ser = new Serializer(Registry.defaults().strict(true).allow(Bean.class.getName()));
        Bean b = new Bean("bean");
        b.id = 42;
        b.values = new int[]{1, -2};
        b.extra = Map.of("a", List.of(1));
        b.c = 'z';
        b.flag = true;
        b.d = 2.5;
        Bean back = (Bean) ser.decode(ser.encode(b));
        assertEquals("bean", back.name);
        assertEquals(42, back.id);
        assertEquals(List.of(1, -2), List.of(back.values[0], back.values[1]));
        assertEquals(Map.of("a", List.of(1)), back.extra);
        assertEquals('z', back.c);
        assertTrue(back.flag);
        assertEquals(2.5, back.d);
        assertEquals("not sent", back.cache, "transient fields keep what the constructor set");

        byte[] bytes = ser.encode(b);
        DecodeException d = assertThrows(DecodeException.class, () -> plain.decode(bytes));
        assertTrue(d.getMessage().contains(Bean.class.getName()) && d.getMessage().contains("Registry.allow("),
                d.getMessage());
    }

    @Test
    void packageWildcardsAllowWholePackages() {
        Serializer ser = new Serializer(Registry.defaults().strict(true).allow("dist.serial.*"));
        Bean back = (Bean) ser.decode(ser.encode(new Bean("w")));
        assertEquals("w", back.name);
        assertNull(back.extra);
    }

    @Test
    void allowedClassWithoutNoArgConstructorIsRebuiltThroughItsOtherConstructor() {
        Serializer ser = new Serializer(Registry.defaults().strict(true).allow(NoDefault.class.getName()));
        assertEquals(1, ((NoDefault) ser.decode(ser.encode(new NoDefault(1)))).v);
    }

    @Test
    void classesThatDoNotLoadAreNamed() {
        byte[] bytes = plain.encode(new Samples.Point(1, 2));
        DecodeException e = assertThrows(DecodeException.class,
                () -> plain.decode(bytes, null, new RefusingLoader(Samples.Point.class.getName()), null));
        assertTrue(e.getMessage().contains(Samples.Point.class.getName()), e.getMessage());
    }

    @Test
    void userLoaderIsUsed() {
        ClassLoader loader = new RefusingLoader();
        Object back = plain.decode(plain.encode(Samples.Color.RED), null, loader, null);
        assertSame(Samples.Color.RED, back);
        assertInstanceOf(Samples.Point.class, plain.decode(plain.encode(new Samples.Point(1, 1)), null, loader, null));
    }
}
