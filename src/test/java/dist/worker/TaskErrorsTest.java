package dist.worker;

import dist.serial.Serializer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** What a failed task sends is small and readable, whatever it threw. */
class TaskErrorsTest {
    private final Serializer serializer = Serializer.defaults();

    private Throwable roundTrip(Throwable t) {
        byte[] bytes = TaskErrors.encode(serializer, t);
        assertNotNull(bytes);
        assertTrue(bytes.length <= TaskErrors.MAX_ENCODED + 16 * 1024, bytes.length + " bytes");
        return (Throwable) serializer.decode(bytes);
    }

    static int recurse(int n) {
        return recurse(n + 1) + 1;
    }

    @Test
    void aStackOverflowTravelsAsItselfWithItsMessage() {
        StackOverflowError soe = assertThrows(StackOverflowError.class, () -> recurse(0));
        Throwable back = roundTrip(soe);
        assertInstanceOf(StackOverflowError.class, back);
        assertTrue(TaskErrors.summary(soe).contains("StackOverflowError"));
    }

    @Test
    void aHugeMessageIsCut() {
        String huge = "x".repeat(1_000_000);
        Throwable back = roundTrip(new IllegalStateException(huge));
        assertInstanceOf(IllegalStateException.class, back);
        assertTrue(back.getMessage().length() < TaskErrors.MAX_MESSAGE_CHARS + 100, back.getMessage().length() + " chars");
        assertTrue(TaskErrors.summary(new IllegalStateException(huge)).length() < TaskErrors.MAX_SUMMARY_CHARS + 100);
    }

    @Test
    void aCauseChainTooDeepToWriteTravelsAsItsFirstCauses() {
        Throwable t = new RuntimeException("root");
        for (int i = 0; i < 10_000; i++) {
            t = new RuntimeException("level " + i, t);
        }
        Throwable back = roundTrip(t);
        int depth = 0;
        for (Throwable c = back; c != null; c = c.getCause()) {
            depth++;
        }
        assertTrue(depth >= 1 && depth <= TaskErrors.MAX_CAUSES, "depth " + depth);
        assertTrue(back.getMessage().contains("level 9999"), back.getMessage());
    }

    static final class Unreadable extends RuntimeException {
        @Override
        public String getMessage() {
            throw new IllegalStateException("no message here");
        }
    }

    @Test
    void anExceptionWhoseMessageThrowsIsDescribedAndEncodedAnyway() {
        String s = TaskErrors.summary(new Unreadable());
        assertTrue(s.contains("Unreadable") && s.contains("could not be read"), s);
        assertNotNull(TaskErrors.encode(serializer, new Unreadable()));
    }

    @Test
    void onlyTheJvmsOwnOutOfMemoryIsFatal() {
        assertTrue(TaskErrors.fatal(new OutOfMemoryError("Java heap space")));
        assertTrue(TaskErrors.fatal(new OutOfMemoryError("Metaspace")));
        assertTrue(TaskErrors.fatal(new OutOfMemoryError("unable to create native thread: possibly out of memory")));
        assertFalse(TaskErrors.fatal(new OutOfMemoryError("Requested array size exceeds VM limit")));
        assertFalse(TaskErrors.fatal(new OutOfMemoryError("the cache is full")));
        assertFalse(TaskErrors.fatal(new OutOfMemoryError()));
        assertFalse(TaskErrors.fatal(new StackOverflowError()));
        assertFalse(TaskErrors.fatal(new InternalError("Java heap space")));
    }
}
