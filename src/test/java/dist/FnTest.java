package dist;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class FnTest {
    @Test
    void everyArityInvokes() throws Exception {
        Fn0<Integer> f0 = () -> 0;
        Fn1<Integer, Integer> f1 = a -> a;
        Fn2<Integer, Integer, Integer> f2 = Integer::sum;
        Fn3<Integer, Integer, Integer, Integer> f3 = (a, b, c) -> a + b + c;
        Fn4<Integer, Integer, Integer, Integer, Integer> f4 = (a, b, c, d) -> a + b + c + d;
        Fn5<Integer, Integer, Integer, Integer, Integer, Integer> f5 = (a, b, c, d, e) -> a + b + c + d + e;
        Fn6<Integer, Integer, Integer, Integer, Integer, Integer, Integer> f6 = (a, b, c, d, e, f) -> a + b + c + d + e + f;
        List<dist.protocol.Invokable> fns = List.of(f0, f1, f2, f3, f4, f5, f6);
        for (int n = 0; n <= 6; n++) {
            Object[] args = new Object[n];
            for (int i = 0; i < n; i++) {
                args[i] = i + 1;
            }
            assertEquals(n, fns.get(n).arity());
            assertEquals(n * (n + 1) / 2, fns.get(n).invoke(args));
        }
    }

    @Test
    void wrongArgumentCountIsExplained() {
        Fn2<Integer, Integer, Integer> f = Integer::sum;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.invoke(new Object[]{1}));
        assertTrue(e.getMessage().contains("takes 2"), e.getMessage());
    }

    @Test
    void lambdasAreSerializable() {
        Fn1<Integer, Integer> f = a -> a + 1;
        assertInstanceOf(java.io.Serializable.class, f);
    }
}
