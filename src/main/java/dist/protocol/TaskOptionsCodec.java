package dist.protocol;

import dist.serial.ClassCodec;
import dist.serial.DecodeException;
import dist.serial.SerialReader;
import dist.serial.SerialWriter;

import java.util.List;
import java.util.Map;

/**
 * {@link TaskOptions} on the wire, written once per run of equal options within one message: the tasks of
 * one call share their options (every task submitted in a span has some), and a graph of 50,000 such
 * tasks then carries them once instead of 50,000 times. The next task with the same options is one
 * byte, and the reader hands back the same instance, so the scheduler keeps one copy for them all.
 * Message codecs keep no identity (closed registries), hence this codec's own memory of the last options,
 * which {@link MessageCodec} scopes to one message.
 */
final class TaskOptionsCodec implements ClassCodec<TaskOptions> {
    private static final int FULL = 0;
    private static final int SAME = 1;

    /** The last options written and read in the message being encoded or decoded on this thread. */
    static final class Memo {
        TaskOptions written;
        TaskOptions read;
    }

    static final ThreadLocal<Memo> MEMO = new ThreadLocal<>();

    @Override
    public void write(TaskOptions o, SerialWriter out) {
        Memo m = MEMO.get();
        if (m != null && m.written != null && (m.written == o || m.written.equals(o))) {
            out.writeByte(SAME);
            return;
        }
        out.writeByte(FULL);
        out.writeObject(o.workers());
        out.writeBoolean(o.allowOtherWorkers());
        out.writeObject(o.resources());
        out.writeVarint(o.retries());
        out.writeObject(o.span());
        if (m != null) {
            m.written = o;
        }
    }

    @Override
    public TaskOptions read(SerialReader in) {
        Memo m = MEMO.get();
        int kind = in.readByte();
        if (kind == SAME) {
            if (m == null || m.read == null) {
                throw new DecodeException("task options said 'same as the last' before any options in this message");
            }
            return m.read;
        }
        if (kind != FULL) {
            throw new DecodeException("task options start with " + kind + ", neither 0 (options) nor 1 (the same again)");
        }
        List<String> workers = strings(in.readObject(), "workers");
        boolean allowOthers = in.readBoolean();
        Map<String, Double> resources = resources(in.readObject());
        long retries = in.readVarint();
        if (retries < 0 || retries > Integer.MAX_VALUE) {
            throw new DecodeException("task options: retries " + retries + " is out of range");
        }
        Object span = in.readObject();
        TaskOptions o = new TaskOptions(workers, allowOthers, resources, (int) retries,
                span == null ? null : strings(span, "span"));
        if (m != null) {
            m.read = o;
        }
        return o;
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Object v, String field) {
        if (!(v instanceof List<?> l) || !l.stream().allMatch(e -> e instanceof String)) {
            throw new DecodeException("task options: " + field + " must be a list of strings, not " + v);
        }
        return (List<String>) l;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Double> resources(Object v) {
        if (!(v instanceof Map<?, ?> map)
                || !map.entrySet().stream().allMatch(e -> e.getKey() instanceof String && e.getValue() instanceof Double)) {
            throw new DecodeException("task options: resources must map names to amounts, not " + v);
        }
        return (Map<String, Double>) map;
    }
}
