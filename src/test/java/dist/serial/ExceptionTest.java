package dist.serial;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExceptionTest {

    static class BadThing extends Exception {
        BadThing(String message) {
            super(message);
        }
    }

    static class NoMessage extends RuntimeException {
        NoMessage() {
        }
    }

    static class OddConstructor extends RuntimeException {
        OddConstructor(int code) {
            super("code " + code);
        }
    }

    private final Serializer s = Serializer.defaults();

    private static Throwable thrown(Throwable t) {
        try {
            throw t;
        } catch (Throwable caught) {
            return caught;
        }
    }

    private Throwable roundTrip(Throwable t, ClassLoader loader) {
        return (Throwable) s.decode(s.encode(t), null, loader, null);
    }

    @Test
    void loadableExceptionsComeBackAsTheirClass() {
        Throwable t = thrown(new IllegalStateException("boom", new IOException("disk")));
        t.addSuppressed(new BadThing("also"));
        Throwable back = roundTrip(t, null);
        assertSame(IllegalStateException.class, back.getClass());
        assertEquals("boom", back.getMessage());
        assertArrayEquals(t.getStackTrace(), back.getStackTrace());
        assertInstanceOf(IOException.class, back.getCause());
        assertEquals("disk", back.getCause().getMessage());
        assertEquals(1, back.getSuppressed().length);
        assertInstanceOf(BadThing.class, back.getSuppressed()[0]);
        assertEquals("also", back.getSuppressed()[0].getMessage());
    }

    @Test
    void constructorsOfEveryShapeAreUsed() {
        Throwable a = roundTrip(new BadThing("b"), null);
        assertSame(BadThing.class, a.getClass());
        assertEquals("b", a.getMessage());
        Throwable withCause = new BadThing("c");
        withCause.initCause(new ArithmeticException("/0"));
        Throwable b = roundTrip(withCause, null);
        assertInstanceOf(ArithmeticException.class, b.getCause());
        assertSame(NoMessage.class, roundTrip(new NoMessage(), null).getClass());
        assertInstanceOf(UncheckedIOException.class, roundTrip(new UncheckedIOException("u", new IOException("io")), null));
        Throwable odd = roundTrip(new OddConstructor(7), null);
        RemoteException re = assertInstanceOf(RemoteException.class, odd);
        assertEquals(OddConstructor.class.getName(), re.remoteClassName());
        assertEquals(OddConstructor.class.getName() + ": code 7", re.getMessage());
    }

    @Test
    void unloadableExceptionsBecomeRemoteException() {
        Throwable t = thrown(new BadThing("boom"));
        t.initCause(new IllegalArgumentException("bad arg"));
        ClassLoader refusing = new RefusingLoader(BadThing.class.getName());
        RemoteException re = assertInstanceOf(RemoteException.class, roundTrip(t, refusing));
        assertEquals(BadThing.class.getName(), re.remoteClassName());
        assertEquals("boom", re.remoteMessage());
        assertEquals(BadThing.class.getName() + ": boom", re.getMessage());
        assertEquals(RemoteException.class.getName() + ": " + BadThing.class.getName() + ": boom", re.toString());
        assertArrayEquals(t.getStackTrace(), re.getStackTrace());
        assertInstanceOf(IllegalArgumentException.class, re.getCause());

        // a remote exception sent on keeps the original name, and becomes the original where it loads
        RemoteException again = assertInstanceOf(RemoteException.class, roundTrip(re, refusing));
        assertEquals(BadThing.class.getName(), again.remoteClassName());
        Throwable original = roundTrip(re, null);
        assertSame(BadThing.class, original.getClass());
        assertEquals("boom", original.getMessage());
    }

    @Test
    void nullMessageAndDeepCauseChains() {
        Throwable t = new RuntimeException((String) null);
        for (int i = 0; i < 50; i++) {
            t = new RuntimeException("level " + i, t);
        }
        Throwable back = roundTrip(t, null);
        int depth = 0;
        while (back.getCause() != null) {
            back = back.getCause();
            depth++;
        }
        assertEquals(50, depth);
        assertNull(back.getMessage());
    }

    @Test
    void exceptionsInsideValues() {
        Object back = s.decode(s.encode(List.of(1, new IllegalStateException("x"))));
        assertInstanceOf(IllegalStateException.class, ((List<?>) back).get(1));
    }
}
