package dist.protocol;

/** An incoming message announced more frames, or a larger frame, than the limits allow. */
public class FrameLimitException extends FrameFormatException {
    public FrameLimitException(String message) {
        super(message);
    }
}
