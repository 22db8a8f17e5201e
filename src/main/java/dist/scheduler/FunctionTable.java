package dist.scheduler;

import dist.protocol.RunCodec;

import java.util.Arrays;
import java.util.HashMap;

/**
 * Function bytes shared by the tasks of one map: a task keeps only its arguments and a reference
 * to the one copy here, so a million tasks of one function hold its bytes once. The bytes stay
 * opaque: only the length prefix of the run format is read.
 */
final class FunctionTable {

    private static final class Entry {
        final byte[] bytes;
        final Slice key;
        int refs;

        Entry(byte[] bytes, Slice key) {
            this.bytes = bytes;
            this.key = key;
        }
    }

    /** Lookup key over a slice of a run, without copying it. */
    private static final class Slice {
        final byte[] a;
        final int off;
        final int len;
        final int hash;

        Slice(byte[] a, int off, int len) {
            this.a = a;
            this.off = off;
            this.len = len;
            int h = 1;
            for (int i = off; i < off + len; i++) {
                h = 31 * h + a[i];
            }
            this.hash = h;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Slice s && s.hash == hash && Arrays.equals(a, off, off + len, s.a, s.off, s.off + s.len);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private final HashMap<Slice, Entry> entries = new HashMap<>();
    private final HashMap<byte[], Slice> keyOf = new HashMap<>(); // identity of the shared copy -> its key
    /** The entry used last: the tasks of one map arrive together, so most look-ups are this one. */
    private Entry last;

    /** Stores {@code run} in {@code ts}: split into shared function bytes and its own arguments. */
    void store(TaskState ts, byte[] run) {
        int[] slice = RunCodec.functionSlice(run);
        if (slice == null) {
            ts.run = run;
            ts.fn = null;
            return;
        }
        Entry e = last;
        if (e == null || e.bytes.length != slice[1]
                || !Arrays.equals(e.bytes, 0, slice[1], run, slice[0], slice[0] + slice[1])) {
            Slice key = new Slice(run, slice[0], slice[1]);
            e = entries.get(key);
            if (e == null) {
                byte[] copy = Arrays.copyOfRange(run, slice[0], slice[0] + slice[1]);
                Slice own = new Slice(copy, 0, copy.length);
                e = new Entry(copy, own);
                entries.put(own, e);
                keyOf.put(copy, own);
            }
            last = e;
        }
        e.refs++;
        ts.fn = e.bytes;
        ts.run = Arrays.copyOfRange(run, slice[0] + slice[1], run.length);
    }

    /** The task's whole run bytes again, as the client sent them. */
    static byte[] runOf(TaskState ts) {
        return ts.fn == null ? ts.run : RunCodec.joinEncoded(ts.fn, ts.run);
    }

    /** The task no longer needs its function. */
    void release(TaskState ts) {
        byte[] fn = ts.fn;
        ts.fn = null;
        if (fn == null) {
            return;
        }
        Entry e = last;
        if (e == null || e.bytes != fn) {
            Slice key = keyOf.get(fn);
            e = key == null ? null : entries.get(key);
        }
        if (e != null && --e.refs == 0) {
            entries.remove(e.key);
            keyOf.remove(fn);
            if (e == last) {
                last = null;
            }
        }
    }

    int size() {
        return entries.size();
    }
}
