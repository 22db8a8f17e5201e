package dist.serial;

/** Bytes that do not decode: truncated, corrupt, over a limit, or naming a class that is not allowed. */
public class DecodeException extends RuntimeException {
    public DecodeException(String message) {
        super(message);
    }

    public DecodeException(String message, Throwable cause) {
        super(message, cause);
    }
}
