package dist.serial;

/** A value that cannot be encoded; the message names its class and how to register it. */
public class EncodeException extends RuntimeException {
    public EncodeException(String message) {
        super(message);
    }

    public EncodeException(String message, Throwable cause) {
        super(message, cause);
    }
}
