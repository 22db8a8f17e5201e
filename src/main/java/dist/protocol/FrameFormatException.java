package dist.protocol;

import java.io.IOException;

/** Bytes on a connection that are not a well-formed message: the connection cannot go on. */
public class FrameFormatException extends IOException {
    public FrameFormatException(String message) {
        super(message);
    }

    public FrameFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
