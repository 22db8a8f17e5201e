package dist.worker;

import dist.serial.RemoteException;
import dist.serial.Serializer;

import java.util.Arrays;

/**
 * What a failed task sends: whatever it threw, as a small encoded exception and a one-line summary,
 * even when the exception cannot describe or encode itself (a message that throws, a cause chain
 * too deep to write, a huge message). Only a real out-of-memory is not a task's error.
 *
 * <pre>{@code
 * byte[] bytes = TaskErrors.encode(serializer, error);   // at most about MAX_ENCODED bytes
 * String line = TaskErrors.summary(error);                // never throws
 * }</pre>
 */
final class TaskErrors {
    /** An encoded error above this size travels as its gist: class, bounded message, bounded stack. */
    static final int MAX_ENCODED = 64 * 1024;
    static final int MAX_MESSAGE_CHARS = 4096;
    static final int MAX_SUMMARY_CHARS = 1000;
    static final int MAX_FRAMES = 64;
    static final int MAX_CAUSES = 8;

    private TaskErrors() {
    }

    /**
     * Whether {@code t} says the JVM ran out of memory (heap, metaspace, native threads, direct
     * buffers): its other threads may have failed too, so the process is not to be trusted any more.
     * An array larger than the VM allows, or an OutOfMemoryError a program made up itself, says
     * nothing about the process: that is the task's error.
     */
    static boolean fatal(Throwable t) {
        if (!(t instanceof OutOfMemoryError)) {
            return false;
        }
        String m;
        try {
            m = t.getMessage();
        } catch (Throwable e) {
            return false; // a subclass of the program's own: the JVM's messages are plain
        }
        if (m == null) {
            return false;
        }
        return m.startsWith("Java heap space") || m.startsWith("GC overhead limit exceeded")
                || m.startsWith("Metaspace") || m.startsWith("Compressed class space")
                || m.startsWith("unable to create native thread") || m.startsWith("Cannot reserve")
                || m.startsWith("Direct buffer memory");
    }

    /** {@code t}'s class and message on one line, cut to {@link #MAX_SUMMARY_CHARS}; never throws. */
    static String summary(Throwable t) {
        String s;
        try {
            s = String.valueOf(t);
        } catch (Throwable e) {
            s = className(t) + " (its message could not be read: " + e.getClass().getName() + ")";
        }
        return cut(s, MAX_SUMMARY_CHARS);
    }

    /**
     * {@code t} encoded: as itself when that works and is small, else as a {@link RemoteException} with
     * its class name (rebuilt as that class where it loads), a bounded message and stack, and the gist
     * of a few causes. Null only when not even that encodes.
     */
    static byte[] encode(Serializer serializer, Throwable t) {
        bound(t);
        try {
            byte[] whole = serializer.encode(t);
            if (whole.length <= MAX_ENCODED) {
                return whole;
            }
        } catch (Throwable e) {
            if (fatal(e)) {
                throw e;
            }
            // an odd field, a message that throws, a chain too deep: send the gist
        }
        try {
            return serializer.encode(gist(t, 0));
        } catch (Throwable e) {
            if (fatal(e)) {
                throw e;
            }
        }
        try {
            RemoteException bare = new RemoteException(className(t), null, null);
            bare.setStackTrace(new StackTraceElement[0]);
            return serializer.encode(bare);
        } catch (Throwable e) {
            if (fatal(e)) {
                throw e;
            }
            return null;
        }
    }

    /** Frames kept nearest the throw, and nearest the task's entry, when a stack is cut. */
    static final int HEAD_FRAMES = 48, TAIL_FRAMES = MAX_FRAMES - HEAD_FRAMES - 1;

    /**
     * Cuts, in place, every stack of {@code t} and its first causes that is deeper than
     * {@link #MAX_FRAMES}: a deep recursion keeps its first and last frames and one frame saying how
     * many were left out, so its error stays small (as dask keeps tracebacks short) and keeps its type.
     */
    static void bound(Throwable t) {
        Throwable c = t;
        for (int depth = 0; c != null && depth < MAX_CAUSES; depth++) {
            try {
                StackTraceElement[] st = c.getStackTrace();
                if (st.length > MAX_FRAMES) {
                    StackTraceElement[] cut = new StackTraceElement[MAX_FRAMES];
                    System.arraycopy(st, 0, cut, 0, HEAD_FRAMES);
                    cut[HEAD_FRAMES] = new StackTraceElement("...", "(" + (st.length - HEAD_FRAMES - TAIL_FRAMES)
                            + " frames omitted)", null, -1);
                    System.arraycopy(st, st.length - TAIL_FRAMES, cut, HEAD_FRAMES + 1, TAIL_FRAMES);
                    c.setStackTrace(cut);
                }
                Throwable next = c.getCause();
                c = next == c ? null : next;
            } catch (Throwable e) {
                if (fatal(e)) {
                    throw e;
                }
                return; // an exception that will not be cut is sent as it is, or as its gist
            }
        }
    }

    /** Class, bounded message and stack of {@code t}, with the gist of its first causes. */
    static RemoteException gist(Throwable t, int depth) {
        Throwable cause = null;
        try {
            cause = t.getCause();
        } catch (Throwable e) {
            // a getCause that throws: leave the cause out
        }
        RemoteException causeGist = cause != null && cause != t && depth + 1 < MAX_CAUSES ? gist(cause, depth + 1) : null;
        RemoteException g = new RemoteException(className(t), message(t), causeGist);
        StackTraceElement[] st;
        try {
            st = t.getStackTrace();
        } catch (Throwable e) {
            st = new StackTraceElement[0];
        }
        g.setStackTrace(st.length <= MAX_FRAMES ? st : Arrays.copyOf(st, MAX_FRAMES));
        return g;
    }

    private static String className(Throwable t) {
        return t instanceof RemoteException re && re.remoteClassName() != null ? re.remoteClassName()
                : t.getClass().getName();
    }

    private static String message(Throwable t) {
        try {
            String m = t instanceof RemoteException re ? re.remoteMessage() : t.getMessage();
            return m == null ? null : cut(m, MAX_MESSAGE_CHARS);
        } catch (Throwable e) {
            return "(the message could not be read: " + e.getClass().getName() + ")";
        }
    }

    private static String cut(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "... (" + (s.length() - max) + " more characters)";
    }
}
