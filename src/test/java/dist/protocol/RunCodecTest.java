package dist.protocol;

import dist.serial.DecodeException;
import dist.serial.Ref;
import dist.serial.Serializer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunCodecTest {
    interface F1 extends Invokable {
        Object apply(Object a) throws Exception;

        @Override
        default Object invoke(Object[] args) throws Exception {
            return apply(args[0]);
        }

        @Override
        default int arity() {
            return 1;
        }
    }

    static Object twice(Object x) {
        return (Integer) x * 2;
    }

    private final Serializer s = Serializer.defaults();

    @Test
    void aFunctionIsDecodedOnceAndArgumentsEveryTime() throws Exception {
        F1 f = RunCodecTest::twice;
        byte[] fn = RunCodec.encodeFunction(s, f, null);
        RunCodec.FunctionCache cache = new RunCodec.FunctionCache();
        TaskCall a = RunCodec.decode(s, RunCodec.join(s, fn, List.of(3), null), null, null, cache);
        TaskCall b = RunCodec.decode(s, RunCodec.join(s, fn, List.of(4), null), null, null, cache);
        assertSame(a.function(), b.function());
        assertEquals(1, cache.size());
        assertEquals(6, a.function().invoke(a.args().toArray()));
        assertEquals(8, b.function().invoke(b.args().toArray()));
    }

    @Test
    void refsResolveInArgumentsAndAFunctionHoldingOneIsNotCached() throws Exception {
        Object captured = new Ref("x-1");
        F1 f = v -> List.of(captured, v);
        List<Object> args = new ArrayList<>();
        args.add(new Ref("y-1"));
        byte[] run = RunCodec.join(s, RunCodec.encodeFunction(s, f, null), args, null);
        RunCodec.FunctionCache cache = new RunCodec.FunctionCache();
        Map<String, Object> values = Map.of("x-1", "X", "y-1", "Y");
        TaskCall call = RunCodec.decode(s, run, null, values::get, cache);
        assertEquals(List.of("Y"), call.args());
        assertEquals(List.of("X", "Y"), call.function().invoke(call.args().toArray()));
        assertEquals(0, cache.size());
    }

    @Test
    void theFunctionCacheHoldsABoundedNumberOfBytes() throws Exception {
        RunCodec.FunctionCache cache = new RunCodec.FunctionCache();
        for (int i = 0; i < 40; i++) {
            byte[] big = new byte[3 << 20]; // each function captured 3 MiB of its own
            big[0] = (byte) i;
            F1 f = v -> big.length + big[0];
            TaskCall call = RunCodec.decode(s, RunCodec.join(s, RunCodec.encodeFunction(s, f, null), List.of(1), null),
                    null, null, cache);
            assertEquals((3 << 20) + i, call.function().invoke(call.args().toArray()));
        }
        assertTrue(cache.size() * (3L << 20) <= (64L << 20) + (3L << 20), cache.size() + " functions of 3 MiB kept");
        byte[] huge = new byte[5 << 20];
        F1 g = v -> huge.length;
        RunCodec.FunctionCache other = new RunCodec.FunctionCache();
        RunCodec.decode(s, RunCodec.join(s, RunCodec.encodeFunction(s, g, null), List.of(1), null), null, null, other);
        assertEquals(0, other.size(), "a function of 5 MiB is decoded each time, not kept");
    }

    @Test
    void bytesThatAreNoRunGiveADecodeException() {
        assertThrows(DecodeException.class, () -> RunCodec.decode(s, new byte[]{1, 2, 3}, null, null, null));
        assertThrows(DecodeException.class, () -> RunCodec.decode(s, new byte[]{(byte) 0xD1, 100, 1}, null, null, null));
        assertThrows(DecodeException.class, () -> RunCodec.decode(s, new byte[]{(byte) 0xD1}, null, null, null));
    }
}
