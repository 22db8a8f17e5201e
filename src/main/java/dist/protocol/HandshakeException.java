package dist.protocol;

import java.io.IOException;

/** The peer did not complete the handshake: wrong magic, wrong version, unknown role, silence or early close. */
public class HandshakeException extends IOException {
    public HandshakeException(String message) {
        super(message);
    }

    public HandshakeException(String message, Throwable cause) {
        super(message, cause);
    }
}
