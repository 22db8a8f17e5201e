package dist.comm;

import java.io.IOException;

/**
 * Why a connection was dropped for its peer's sake: the peer took none of what waited for it within
 * the write timeout, let more than the send-queue bound wait, or sent nothing at all within the idle
 * timeout. {@link Handler#onClose} sees it as the cause; the message names the bound and its setting.
 */
public class StalledPeerException extends IOException {
    public StalledPeerException(String message) {
        super(message);
    }
}
