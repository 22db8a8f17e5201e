package dist.serial;

import java.lang.reflect.Array;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/** Test types and a seeded generator of random nested values. */
final class Samples {
    private Samples() {
    }

    enum Color { RED, GREEN, BLUE { @Override public String toString() { return "blue!"; } } }

    record Point(int x, int y) {}

    record Person(String name, int age, List<String> tags, Color color, Optional<String> nick) {}

    record AllPrims(boolean z, byte b, short s, char c, int i, long l, float f, double d) {}

    record Boxed(Integer i, Long l, Object any) {}

    record Nested(Point p, Map<String, Object> attrs) {}

    record Empty() {}

    private record Hidden(String secret) {}

    static Hidden hidden(String s) {
        return new Hidden(s);
    }

    private final static String ALPHABET = "abcXYZ019 _-é€中𝄞";

    static String randomString(Random r) {
        int kind = r.nextInt(5);
        if (kind == 0) {
            return "";
        }
        int n = kind == 1 ? r.nextInt(200) : r.nextInt(12);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (kind == 2) {
                sb.appendCodePoint(ALPHABET.codePointAt(ALPHABET.offsetByCodePoints(0,
                        r.nextInt(ALPHABET.codePointCount(0, ALPHABET.length())))));
            } else {
                sb.append((char) (32 + r.nextInt(95)));
            }
        }
        return sb.toString();
    }

    static long randomLong(Random r) {
        return switch (r.nextInt(4)) {
            case 0 -> r.nextInt(256) - 128;
            case 1 -> r.nextLong();
            case 2 -> r.nextBoolean() ? Long.MIN_VALUE : Long.MAX_VALUE;
            default -> r.nextInt();
        };
    }

    /** A random value; containers nest up to {@code depth} levels. */
    static Object value(Random r, int depth) {
        int k = r.nextInt(depth <= 0 ? 26 : 36);
        return switch (k) {
            case 0 -> null;
            case 1 -> r.nextBoolean();
            case 2 -> (byte) r.nextInt();
            case 3 -> (short) r.nextInt();
            case 4 -> (char) r.nextInt(0x10000);
            case 5 -> (int) randomLong(r);
            case 6 -> randomLong(r);
            case 7 -> r.nextBoolean() ? r.nextFloat() : Float.NaN;
            case 8 -> r.nextInt(5) == 0 ? -0.0 : r.nextDouble() * 1e6;
            case 9, 10 -> randomString(r);
            case 11 -> { byte[] b = new byte[r.nextInt(r.nextInt(10) == 0 ? 5000 : 40)]; r.nextBytes(b); yield b; }
            case 12 -> { boolean[] a = new boolean[r.nextInt(20)]; for (int i = 0; i < a.length; i++) a[i] = r.nextBoolean(); yield a; }
            case 13 -> { short[] a = new short[r.nextInt(10)]; for (int i = 0; i < a.length; i++) a[i] = (short) r.nextInt(); yield a; }
            case 14 -> { char[] a = new char[r.nextInt(10)]; for (int i = 0; i < a.length; i++) a[i] = (char) r.nextInt(); yield a; }
            case 15 -> { int[] a = new int[r.nextInt(10)]; for (int i = 0; i < a.length; i++) a[i] = (int) randomLong(r); yield a; }
            case 16 -> { long[] a = new long[r.nextInt(10)]; for (int i = 0; i < a.length; i++) a[i] = randomLong(r); yield a; }
            case 17 -> { float[] a = new float[r.nextInt(10)]; for (int i = 0; i < a.length; i++) a[i] = r.nextFloat(); yield a; }
            case 18 -> { double[] a = new double[r.nextInt(10)]; for (int i = 0; i < a.length; i++) a[i] = r.nextGaussian(); yield a; }
            case 19 -> Color.values()[r.nextInt(3)];
            case 20 -> new Point(r.nextInt(), r.nextInt(100));
            case 21 -> new AllPrims(r.nextBoolean(), (byte) r.nextInt(), (short) r.nextInt(), (char) r.nextInt(),
                    r.nextInt(), r.nextLong(), r.nextFloat(), r.nextDouble());
            case 22 -> new Ref(randomString(r));
            case 23 -> Optional.empty();
            case 24 -> new Empty();
            case 25 -> { String[] a = new String[r.nextInt(4)]; for (int i = 0; i < a.length; i++) a[i] = r.nextBoolean() ? null : randomString(r); yield a; }
            case 26, 27 -> {
                int n = r.nextInt(6);
                List<Object> l = r.nextBoolean() ? new ArrayList<>() : new java.util.LinkedList<>();
                for (int i = 0; i < n; i++) l.add(value(r, depth - 1));
                yield l;
            }
            case 28 -> {
                int n = r.nextInt(6);
                Set<Object> s = r.nextBoolean() ? new LinkedHashSet<>() : new HashSet<>();
                for (int i = 0; i < n; i++) s.add(key(r));
                yield s;
            }
            case 29 -> {
                int n = r.nextInt(6);
                Map<Object, Object> m = r.nextBoolean() ? new LinkedHashMap<>() : new HashMap<>();
                for (int i = 0; i < n; i++) m.put(key(r), value(r, depth - 1));
                yield m;
            }
            case 30 -> {
                TreeMap<String, Object> m = new TreeMap<>();
                for (int i = r.nextInt(5); i > 0; i--) m.put(randomString(r), value(r, depth - 1));
                yield m;
            }
            case 31 -> {
                TreeSet<Long> s = new TreeSet<>();
                for (int i = r.nextInt(5); i > 0; i--) s.add(randomLong(r));
                yield s;
            }
            case 32 -> Optional.of(value(r, depth - 1) instanceof Object o ? o : "x");
            case 33 -> new Boxed(r.nextBoolean() ? null : r.nextInt(), r.nextLong(), value(r, depth - 1));
            case 34 -> new Person(randomString(r), r.nextInt(120), List.of(randomString(r), randomString(r)),
                    Color.values()[r.nextInt(3)], r.nextBoolean() ? Optional.of("n") : Optional.empty());
            default -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (int i = r.nextInt(4); i > 0; i--) m.put(randomString(r), value(r, depth - 1));
                yield new Nested(new Point(r.nextInt(), r.nextInt()), m);
            }
        };
    }

    /** Hashable keys only (no arrays). */
    static Object key(Random r) {
        return switch (r.nextInt(5)) {
            case 0 -> randomString(r);
            case 1 -> randomLong(r);
            case 2 -> new Point(r.nextInt(10), r.nextInt(10));
            case 3 -> Color.values()[r.nextInt(3)];
            default -> r.nextInt(50);
        };
    }

    /** Deep equality that compares arrays by content, record components deeply, and iteration order. */
    static boolean deepEquals(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null) {
            return false;
        }
        if (a.getClass().isArray()) {
            if (!b.getClass().isArray() || a.getClass() != b.getClass()) {
                return false;
            }
            int n = Array.getLength(a);
            if (n != Array.getLength(b)) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                if (!deepEquals(Array.get(a, i), Array.get(b, i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> ma) {
            if (!(b instanceof Map<?, ?> mb) || ma.size() != mb.size()) {
                return false;
            }
            if (ordered(a) != ordered(b) && !(a instanceof HashMap && b instanceof LinkedHashMap)) {
                return false;
            }
            Iterator<? extends Map.Entry<?, ?>> ib = mb.entrySet().iterator();
            for (Map.Entry<?, ?> e : ma.entrySet()) {
                Map.Entry<?, ?> f = ib.next();
                if (!Objects.equals(e.getKey(), f.getKey()) || !deepEquals(e.getValue(), f.getValue())) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Collection<?> ca) {
            if (!(b instanceof Collection<?> cb) || ca.size() != cb.size()) {
                return false;
            }
            if ((a instanceof Set) != (b instanceof Set) || (a instanceof SortedSet) != (b instanceof SortedSet)) {
                return false;
            }
            Iterator<?> ib = cb.iterator();
            for (Object x : ca) {
                if (!deepEquals(x, ib.next())) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Optional<?> oa) {
            return b instanceof Optional<?> ob && oa.isPresent() == ob.isPresent()
                    && (oa.isEmpty() || deepEquals(oa.get(), ob.get()));
        }
        if (a.getClass().isRecord()) {
            if (a.getClass() != b.getClass()) {
                return false;
            }
            try {
                for (RecordComponent c : a.getClass().getRecordComponents()) {
                    c.getAccessor().setAccessible(true);
                    if (!deepEquals(c.getAccessor().invoke(a), c.getAccessor().invoke(b))) {
                        return false;
                    }
                }
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
            return true;
        }
        return a.equals(b) && a.getClass() == b.getClass();
    }

    private static boolean ordered(Object m) {
        return m instanceof SortedMap;
    }
}
