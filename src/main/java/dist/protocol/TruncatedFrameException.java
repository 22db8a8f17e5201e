package dist.protocol;

import java.io.EOFException;

/** The peer closed the stream in the middle of a message (not at a message boundary). */
public class TruncatedFrameException extends EOFException {
    public TruncatedFrameException(String message) {
        super(message);
    }
}
