package dist.serial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class LambdaTest {

    interface Fn0<R> extends Serializable {
        R call() throws Exception;
    }

    interface Fn1<A, R> extends Serializable {
        R apply(A a) throws Exception;
    }

    interface Fn2<A, B, R> extends Serializable {
        R apply(A a, B b) throws Exception;
    }

    record Scale(int factor) {}

    static int inc(int x) {
        return x + 1;
    }

    private final Serializer s = Serializer.defaults();

    @SuppressWarnings("unchecked")
    private <T> T roundTrip(T fn) {
        return (T) s.decode(s.encode(fn));
    }

    @Test
    void staticMethodReference() throws Exception {
        Fn1<Integer, Integer> f = LambdaTest::inc;
        assertEquals(11, roundTrip(f).apply(10));
    }

    static Object identity(Object x) {
        return x;
    }

    static <A, R> Fn1<A, R> typed(Fn1<A, R> fn, A example) {
        return fn;
    }

    /**
     * One method referenced as a function of Integer and of List: javac's $deserializeLambda$ tells
     * them apart by the method only and would give back the first, which casts its argument to Integer.
     */
    @Test
    void oneMethodReferencedWithTwoArgumentTypes() throws Exception {
        Fn1<Integer, Object> ofInt = typed(LambdaTest::identity, 1);
        Fn1<List<Integer>, Object> ofList = typed(LambdaTest::identity, List.of(1));
        assertEquals(1, roundTrip(ofInt).apply(1));
        assertEquals(List.of(2), roundTrip(ofList).apply(List.of(2)));
        assertEquals(List.of(3), roundTrip(roundTrip(ofList)).apply(List.of(3)));
        int k = 4;
        Fn1<Integer, Object> capInt = typed(x -> identity(x + k), 1);
        assertEquals(5, roundTrip(capInt).apply(1));
    }

    @Test
    void capturingLambdas() throws Exception {
        int k = 5;
        String prefix = "p-";
        Scale scale = new Scale(3);
        Fn1<String, String> g = x -> prefix + x + k * scale.factor();
        assertEquals("p-x15", roundTrip(g).apply("x"));
        Fn2<Integer, List<Integer>, Integer> sum = (a, xs) -> a + xs.stream().mapToInt(i -> i).sum();
        assertEquals(10, roundTrip(sum).apply(4, List.of(1, 2, 3)));
    }

    /** Not a record: its method reference captures an instance that a strict registry must allow-list. */
    static final class Greeter {
        private String name = "instance";

        String greet(String who) {
            return name + " greets " + who;
        }
    }

    @Test
    void boundInstanceMethodReferenceOfAnAllowedClass() throws Exception {
        Greeter greeter = new Greeter();
        Fn1<String, String> m = greeter::greet;
        Serializer strict = new Serializer(Registry.defaults().strict(true));
        EncodeException e = assertThrows(EncodeException.class, () -> strict.encode(m));
        assertTrue(e.getMessage().contains(Greeter.class.getName()), e.getMessage());
        @SuppressWarnings("unchecked")
        Fn1<String, String> open = (Fn1<String, String>) s.decode(s.encode(m));
        assertEquals("instance greets you", open.apply("you"));
        Serializer ser = new Serializer(Registry.defaults().strict(true).allow(Greeter.class.getName()));
        @SuppressWarnings("unchecked")
        Fn1<String, String> back = (Fn1<String, String>) ser.decode(ser.encode(m));
        assertEquals("instance greets you", back.apply("you"));
    }

    @Test
    void lambdaCapturingLambdas() throws Exception {
        Fn1<Integer, Integer> f = LambdaTest::inc;
        Fn1<Integer, Integer> twice = x -> f.apply(f.apply(x));
        Fn1<Integer, Integer> four = x -> twice.apply(twice.apply(x));
        assertEquals(4, roundTrip(four).apply(0));
        List<Fn1<Integer, Integer>> many = List.of(f, twice, four);
        @SuppressWarnings("unchecked")
        List<Fn1<Integer, Integer>> back = (List<Fn1<Integer, Integer>>) s.decode(s.encode(many));
        assertEquals(1 + 2 + 4, back.get(0).apply(0) + back.get(1).apply(0) + back.get(2).apply(0));
    }

    @Test
    void boundAndConstructorReferences() throws Exception {
        Fn1<String, String> concat = "abc"::concat;
        assertEquals("abcdef", roundTrip(concat).apply("def"));
        Fn0<List<String>> make = ArrayList::new;
        List<String> made = roundTrip(make).call();
        made.add("ok");
        assertEquals(List.of("ok"), made);
        Fn1<String, Integer> length = String::length;
        assertEquals(3, roundTrip(length).apply("xyz"));
    }

    @Test
    void nonSerializableLambdaIsRejectedWithTheFix() {
        Function<Integer, Integer> plain = x -> x + 1;
        EncodeException e = assertThrows(EncodeException.class, () -> s.encode(plain));
        assertTrue(e.getMessage().contains("Serializable"), e.getMessage());
    }

    @Test
    void unloadableCapturingClassIsADecodeException() {
        Fn1<Integer, Integer> f = LambdaTest::inc;
        byte[] bytes = s.encode(f);
        DecodeException e = assertThrows(DecodeException.class,
                () -> s.decode(bytes, null, new RefusingLoader(LambdaTest.class.getName()), null));
        assertTrue(e.getMessage().contains(LambdaTest.class.getName()), e.getMessage());
    }
}
