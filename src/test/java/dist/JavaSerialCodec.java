package dist;

import dist.client.PayloadCodec;
import dist.protocol.Invokable;
import dist.protocol.TaskCall;
import dist.serial.Ref;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * A stand-in for the project's serializer in client unit tests: Java serialization with the same
 * replacer hook (test scope only). Refs and task calls are wrapped because they are not Serializable.
 */
final class JavaSerialCodec implements PayloadCodec {

    record SerRef(String key) implements Serializable {
    }

    record SerCall(Invokable fn, ArrayList<Object> args) implements Serializable {
    }

    @Override
    public byte[] encode(Object value, UnaryOperator<Object> replacer) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Out out = new Out(bytes, replacer)) {
            out.writeObject(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    @Override
    public Object decode(byte[] bytes, ClassLoader loader) {
        return decodeWithRefs(bytes, null);
    }

    /** Decodes; each ref becomes {@code refs.apply(key)} (or stays a Ref when refs is null). */
    Object decodeWithRefs(byte[] bytes, Function<String, Object> refs) {
        try (In in = new In(new ByteArrayInputStream(bytes), refs)) {
            return in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("test codec could not decode", e);
        }
    }

    private static final class Out extends ObjectOutputStream {
        private final UnaryOperator<Object> replacer;

        Out(OutputStream out, UnaryOperator<Object> replacer) throws IOException {
            super(out);
            this.replacer = replacer;
            enableReplaceObject(true);
        }

        @Override
        protected Object replaceObject(Object obj) {
            Object o = replacer == null ? obj : replacer.apply(obj);
            if (o instanceof Ref r) {
                return new SerRef(r.key());
            }
            if (o instanceof TaskCall c) {
                return new SerCall(c.function(), new ArrayList<>(c.args()));
            }
            return o;
        }
    }

    private static final class In extends ObjectInputStream {
        private final Function<String, Object> refs;

        In(InputStream in, Function<String, Object> refs) throws IOException {
            super(in);
            this.refs = refs;
            enableResolveObject(true);
        }

        @Override
        protected Object resolveObject(Object obj) {
            if (obj instanceof SerRef r) {
                return refs == null ? new Ref(r.key()) : refs.apply(r.key());
            }
            if (obj instanceof SerCall c) {
                return new TaskCall(c.fn(), new ArrayList<>(c.args()));
            }
            return obj;
        }
    }

    static List<Object> argsOf(Object call) {
        return ((TaskCall) call).args();
    }
}
