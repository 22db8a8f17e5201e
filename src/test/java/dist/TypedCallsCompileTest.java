package dist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What javac accepts and rejects of the typed {@code submit}, {@code map} and {@code Delayed.of}:
 * each test compiles a small class in this JVM and checks the errors, so a change to the generated
 * overloads that lets a wrong type through, or makes a good call ambiguous, fails here.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TypedCallsCompileTest {

    /** The class every snippet runs inside; {@code %s} is the body of {@code calls}. */
    private static final String APP = """
            package app;

            import dist.*;
            import java.util.*;

            public class App {
                static int inc(int x) { return x + 1; }
                static int add(int a, int b) { return a + b; }
                static int add3(int a, int b, int c) { return a + b + c; }
                static int add4(int a, int b, int c, int d) { return a + b + c + d; }
                static int add5(int a, int b, int c, int d, int e) { return a + b + c + d + e; }
                static int add6(int a, int b, int c, int d, int e, int f) { return a + b + c + d + e + f; }
                static int six(int a, String b, long c, double d, List<Integer> e, Integer f) { return a; }
                static Object ident(Object o) { return o; }
                static <T> T gen(T t) { return t; }
                static int sum(List<Integer> xs) { return 0; }
                static int sumSet(Set<Integer> xs) { return 0; }
                static int total(Map<String, Integer> m) { return 0; }
                record Pair(Object left, Object right) { }
                static int pair(Pair p) { return 0; }

                void calls(Client client, Future<Integer> fi, Future<String> fs, Delayed<Integer> di,
                           List<Future<Integer>> lf, int k) throws Exception {
            %s
                }
            }
            """;

    private static List<CompileCheck.Error> compile(String body) {
        return CompileCheck.errors(Map.of("app.App", APP.formatted(body)));
    }

    private static void assertCompiles(String body) {
        List<CompileCheck.Error> errors = compile(body);
        assertTrue(errors.isEmpty(), () -> "expected to compile, got:\n" + String.join("\n",
                errors.stream().map(e -> e.line() + ": " + e.message().lines().findFirst().orElse("")).toList()));
    }

    /** {@code statement} fails to compile, with an error on its own line saying {@code expected}. */
    private static void assertRejected(String statement, String expected) {
        List<CompileCheck.Error> errors = compile("        " + statement);
        long line = APP.lines().takeWhile(l -> !l.contains("%s")).count() + 1;
        assertTrue(errors.stream().anyMatch(e -> e.line() == line && e.message().contains(expected)),
                () -> statement + ": expected an error containing \"" + expected + "\", got:\n"
                        + String.join("\n", errors.stream().map(e -> e.line() + ": " + e.message().lines()
                        .findFirst().orElse("")).toList()));
    }

    // ------------------------------------------------------------------ accepted

    @Test
    void implicitLambdaInfersItsParameterFromAValue() {
        assertCompiles("""
                Future<Integer> r = client.submit(v -> v * k, 6);
                Future<String> s = client.submit(v -> v.toUpperCase(), "x");
                Future<Integer> r2 = client.submit((a, b) -> a + b.length(), 1, "two");
                Future<Integer> r6 = client.submit((a, b, c, d, e, f) -> a + b + c + d + e + f, 1, 2, 3, 4, 5, 6);
                Future<Integer> w = client.with(Options.defaults().pure(false)).submit(v -> v + 1, 1);
                """);
    }

    @Test
    void exactMethodReferenceTakesAValueOrAFuture() {
        assertCompiles("""
                Future<Integer> a = client.submit(App::inc, 1);
                Future<Integer> b = client.submit(App::inc, fi);
                Future<? extends Integer> wide = fi;
                Future<Integer> c = client.submit(App::inc, wide);
                Future<Integer> d = client.submit(App::inc, (Integer) null);
                Future<Object> e = client.submit(App::ident, "any value");
                Future<String> g = client.submit(App::gen, "x");
                """);
    }

    @Test
    void explicitlyTypedLambdaTakesAFuture() {
        assertCompiles("""
                Future<Integer> a = client.submit((Integer v) -> v * k, fi);
                Future<Integer> b = client.submit((Integer x, String y) -> x + y.length(), fi, fs);
                """);
    }

    @Test
    void overloadedMethodReferenceResolvesFromTheValues() {
        assertCompiles("""
                Future<Integer> a = client.submit(Math::abs, -5);
                Future<Double> b = client.submit(Math::abs, -5.0);
                Future<Integer> c = client.submit(Integer::sum, 1, 2);
                Future<Integer> d = client.submit(Math::abs, (Integer) fi.result());
                """);
    }

    /** Every placement of futures among values at arity 2 to 6 compiles, as does the arity-6 mix of types. */
    @Test
    void everyMixOfValuesAndFuturesAtArity2To6() {
        StringBuilder body = new StringBuilder();
        for (int n = 2; n <= 6; n++) {
            for (int mask = 0; mask < 1 << n; mask++) {
                List<String> args = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    args.add((mask & 1 << i) != 0 ? "fi" : String.valueOf(i));
                }
                String fn = n == 2 ? "App::add" : "App::add" + n;
                body.append("        { Future<Integer> r = client.submit(").append(fn).append(", ")
                        .append(String.join(", ", args)).append("); }\n");
            }
        }
        body.append("""
                Future<Integer> six = client.submit(App::six, fi, fs, 3L, 4.0, List.of(1), fi);
                Future<Integer> sixValues = client.submit(App::six, 1, "b", 3L, 4.0, List.of(1), 6);
                """);
        assertCompiles(body.toString());
    }

    @Test
    void mapTakesForEachListValuesOrFutures() {
        assertCompiles("""
                List<Future<Integer>> a = client.map(App::inc, List.of(1, 2));
                List<Future<Integer>> b = client.map(App::inc, lf);
                List<Future<Integer>> c = client.map(x -> x * k, List.of(1, 2));
                List<Future<Integer>> d = client.map((Integer x) -> x * k, lf);
                List<Future<Integer>> e = client.map(App::add, lf, List.of(1, 2));
                List<Future<Integer>> f = client.map(App::add, List.of(1, 2), lf);
                List<Future<Integer>> g = client.map(App::add, lf, lf);
                List<Future<Integer>> h = client.map((x, y) -> x + y, List.of(1), List.of(2));
                List<Future<Integer>> i = client.map(App::add3, lf, List.of(1), lf);
                List<Future<Integer>> j = client.map(App::inc, List.<Integer>of());
                List<Future<Integer>> l = client.map(App::sum, List.of(Futures.all(lf)));
                java.util.concurrent.BlockingQueue<Integer> q = new java.util.concurrent.LinkedBlockingQueue<>();
                java.util.concurrent.BlockingQueue<Future<Integer>> qa = client.map(App::inc, q);
                java.util.concurrent.BlockingQueue<Future<Integer>> qb = client.map(App::inc, qa);
                """);
    }

    @Test
    void delayedOfTakesValuesDelayedOrFutures() {
        StringBuilder body = new StringBuilder();
        String[] forms = {"1", "di", "fi"};
        for (int n = 1; n <= 3; n++) {
            int combos = (int) Math.pow(3, n);
            for (int c = 0; c < combos; c++) {
                List<String> args = new ArrayList<>();
                for (int i = 0, x = c; i < n; i++, x /= 3) {
                    args.add(forms[x % 3]);
                }
                String fn = n == 1 ? "App::inc" : n == 2 ? "App::add" : "App::add3";
                body.append("        { Delayed<Integer> r = Delayed.of(").append(fn).append(", ")
                        .append(String.join(", ", args)).append("); }\n");
            }
        }
        body.append("""
                Delayed<Integer> six = Delayed.of(App::six, di, fs, 3L, 4.0, List.of(1), fi);
                Delayed<Integer> lambda = Delayed.of((a, b) -> a + b, 1, 2);
                Delayed<Integer> typed = Delayed.of((Integer a, Integer b) -> a + b, di, fi);
                Delayed<Integer> then = di.then(App::inc);
                """);
        assertCompiles(body.toString());
    }

    /** The quickstart's {@code submit(Demo::sum, squares)} with the one-word change. */
    @Test
    void collectionsOfFuturesPassAsTheirValuesThroughAll() {
        assertCompiles("""
                Future<Integer> a = client.submit(App::sum, Futures.all(lf));
                Future<Integer> b = client.submit(App::sumSet, Futures.all(Set.of(fi)));
                Future<Integer> c = client.submit(App::total, Futures.all(Map.of("x", fi)));
                Delayed<Integer> d = Delayed.of(App::sum, Delayed.all(List.of(di, di)));
                Delayed<Integer> mixed = Delayed.of(App::sum, Delayed.all(List.of(di, fi)));
                Delayed<Integer> e = Delayed.of(App::sum, Futures.all(lf));
                """);
    }

    @Test
    void uncheckedFormsTakeAnyShape() {
        assertCompiles("""
                Future<Integer> a = client.submitUnchecked(App::pair, new Pair(fi, List.of(fi, 2)));
                Future<Integer> b = client.submitUnchecked(App::sum, List.of(fi, 2));
                Future<Object> c = client.submitUnchecked(App::ident, fi);
                Delayed<Integer> d = Delayed.ofUnchecked(App::sum, List.of(di, fi, 3));
                """);
    }

    // ------------------------------------------------------------------ rejected

    @Test
    void aValueOfTheWrongTypeIsRejected() {
        assertRejected("client.submit(App::inc, \"hello\");", "no suitable method found for submit");
    }

    @Test
    void aFutureOfTheWrongTypeIsRejected() {
        assertRejected("client.submit(App::add, fi, fs);", "no suitable method found for submit");
    }

    @Test
    void aWrongTypeAtArity6IsRejected() {
        assertRejected("client.submit(App::six, fi, 2, 3L, 4.0, List.of(1), fi);", "no suitable method found for submit");
    }

    @Test
    void aListOfFuturesWhereTheValuesGoNeedsAll() {
        assertRejected("client.submit(App::sum, lf);", "no suitable method found for submit");
    }

    @Test
    void mapOverTheWrongElementTypeIsRejected() {
        assertRejected("client.map(App::inc, List.of(\"a\"));", "no suitable method found for map");
        assertRejected("client.map(App::add, lf, List.of(\"a\"));", "no suitable method found for map");
    }

    @Test
    void delayedOfTheWrongTypeIsRejected() {
        assertRejected("Delayed.of(App::inc, \"x\");", "no suitable method found for of");
        assertRejected("Delayed.of(App::six, di, 2, 3L, 4.0, List.of(1), fi);", "no suitable method found for of");
    }

    /** javac cannot tell a lambda taking a Future from one taking its value: the parameter types must be written. */
    @Test
    void implicitLambdaOverAFutureIsAmbiguous() {
        assertRejected("client.submit(v -> v + 1, fi);", "reference to submit is ambiguous");
        assertRejected("client.map(x -> x + 1, lf);", "reference to map is ambiguous");
        assertRejected("Delayed.of(v -> v + 1, di);", "reference to of is ambiguous");
    }

    /** An inexact method reference (overloaded or generic) over a future: the same, use a lambda with types. */
    @Test
    void inexactMethodReferenceOverAFutureIsAmbiguous() {
        assertRejected("client.submit(Math::abs, fi);", "reference to submit is ambiguous");
        assertRejected("client.submit(App::gen, fi);", "reference to submit is ambiguous");
    }

    /** A function taking Object accepts a Future as a value too; submitUnchecked says which is meant. */
    @Test
    void objectParameterOverAFutureIsAmbiguous() {
        assertRejected("client.submit(App::ident, fi);", "reference to submit is ambiguous");
    }

    /** A bare null or an empty List.of() fits both forms; a cast or a type argument picks one. */
    @Test
    void untypedNullOrEmptyListIsAmbiguous() {
        assertRejected("client.submit(App::inc, null);", "reference to submit is ambiguous");
        assertRejected("client.map(App::inc, List.of());", "reference to map is ambiguous");
    }

    @Test
    void rejectionsNameTheLine() {
        // the harness's line arithmetic: a statement on the body's first line errs there
        List<CompileCheck.Error> errors = compile("        int x = \"s\";");
        assertEquals(1, errors.size(), errors::toString);
    }
}
