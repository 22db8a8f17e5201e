package dist.client;

import dist.serial.Serializer;

import java.util.function.UnaryOperator;

/** How the client turns task calls into bytes and results back into objects. Internal seam for tests. */
public interface Codec {

    /** Encodes {@code value}; {@code replacer} sees every object first and may substitute it. */
    byte[] encode(Object value, UnaryOperator<Object> replacer);

    /** Decodes a result or an exception, loading user classes through {@code loader}. */
    Object decode(byte[] bytes, ClassLoader loader);

    /** The project's serializer. */
    static Codec of(Serializer serializer) {
        return new Codec() {
            @Override
            public byte[] encode(Object value, UnaryOperator<Object> replacer) {
                return serializer.encode(value, null, replacer);
            }

            @Override
            public Object decode(byte[] bytes, ClassLoader loader) {
                return serializer.decode(bytes, null, loader, null);
            }
        };
    }
}
