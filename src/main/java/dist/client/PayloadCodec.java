package dist.client;

import dist.protocol.Invokable;
import dist.protocol.RunCodec;
import dist.protocol.TaskCall;

import java.util.List;

import dist.serial.Encoded;
import dist.serial.Serializer;

import java.util.function.UnaryOperator;

/** How the client turns task calls into bytes and results back into objects. Internal seam for tests. */
public interface PayloadCodec {

    /** Encodes {@code value}; {@code replacer} sees every object first and may substitute it. */
    byte[] encode(Object value, UnaryOperator<Object> replacer);

    /**
     * Prepares a function for {@link #encodeRun}: done once per submit or map, so every task of a
     * map shares one encoding of its function.
     */
    default Object prepareFunction(Invokable fn, UnaryOperator<Object> replacer) {
        return fn;
    }

    /** A task's run bytes for {@code fn} (as {@link #prepareFunction} returned it) and its arguments. */
    default byte[] encodeRun(Object prepared, Invokable fn, List<Object> args, UnaryOperator<Object> replacer) {
        return encode(new TaskCall(fn, args), replacer);
    }

    /** Decodes a result or an exception, loading user classes through {@code loader}. */
    Object decode(byte[] bytes, ClassLoader loader);

    /** Encodes a value that travels as data (scatter): its large arrays by reference, see {@link Encoded}. */
    default Encoded encodeParts(Object value, UnaryOperator<Object> replacer) {
        return Encoded.of(encode(value, replacer));
    }

    /** Decodes a result kept in parts. */
    default Object decode(Encoded encoded, ClassLoader loader) {
        if (!encoded.buffers().isEmpty()) {
            throw new IllegalStateException("this codec cannot decode out-of-band buffers");
        }
        return decode(encoded.head(), loader);
    }

    /** The project's serializer. */
    static PayloadCodec of(Serializer serializer) {
        return new PayloadCodec() {
            @Override
            public byte[] encode(Object value, UnaryOperator<Object> replacer) {
                return serializer.encode(value, null, replacer);
            }

            @Override
            public Object prepareFunction(Invokable fn, UnaryOperator<Object> replacer) {
                return RunCodec.encodeFunction(serializer, fn, replacer);
            }

            @Override
            public byte[] encodeRun(Object prepared, Invokable fn, List<Object> args, UnaryOperator<Object> replacer) {
                return RunCodec.join(serializer, (byte[]) prepared, args, replacer);
            }

            @Override
            public Object decode(byte[] bytes, ClassLoader loader) {
                return serializer.decode(bytes, null, loader, null);
            }

            @Override
            public Encoded encodeParts(Object value, UnaryOperator<Object> replacer) {
                return serializer.encodeParts(value, replacer);
            }

            @Override
            public Object decode(Encoded encoded, ClassLoader loader) {
                return serializer.decode(encoded, loader, null);
            }
        };
    }
}
