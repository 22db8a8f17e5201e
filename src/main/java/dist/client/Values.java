package dist.client;

import dist.serial.Encoded;

import java.util.function.UnaryOperator;

/** Values through the client's codec and class loader. Internal: what {@link DataOps} needs of the core. */
public interface Values {

    byte[] encodeValue(Object value);

    /** Encodes {@code value}, passing every object through {@code replacer} first (futures to refs). */
    byte[] encodeValue(Object value, UnaryOperator<Object> replacer);

    /** Encodes {@code value} keeping its large buffers as parts of their own. */
    Encoded encodeParts(Object value);

    /** Decodes with the class loader of the thread that made the client. */
    Object decodeValue(byte[] bytes);

    /**
     * A failure reported as {@code exceptionBytes} (the task's own exception when they decode) and
     * {@code summary}: a {@code KilledWorkerException} or an IllegalStateException otherwise.
     */
    Throwable mapError(byte[] exceptionBytes, String summary, String key);
}
