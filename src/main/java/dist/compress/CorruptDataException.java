package dist.compress;

/**
 * Compressed bytes that do not decode to what they claim: truncated, a match pointing before the
 * start of the output, a run past the declared end, a declared length over the caller's limit, or a
 * stream of another format. An {@link IllegalArgumentException}, since the bytes handed in are the bad
 * argument; nothing was read or written out of bounds when it is thrown.
 */
public class CorruptDataException extends IllegalArgumentException {
    public CorruptDataException(String message) {
        super(message);
    }

    public CorruptDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
