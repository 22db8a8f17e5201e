package dist.comm;

import java.time.Duration;

/**
 * Connection settings.
 *
 * @param connectTimeout  how long {@link Connection#connect} keeps retrying, with back-off
 * @param requestTimeout  default bound of {@link Connection#request(dist.protocol.Message)}
 * @param handshakeTimeout a peer that does not complete the handshake in this time is dropped
 * @param maxFrames       most frames in one message
 * @param maxFrameBytes   largest frame accepted, checked before allocation
 */
public record CommConfig(Duration connectTimeout, Duration requestTimeout, Duration handshakeTimeout,
                         int maxFrames, long maxFrameBytes) {
    public static final CommConfig DEFAULT = new CommConfig(Duration.ofSeconds(10), Duration.ofSeconds(30),
            Duration.ofSeconds(10), 1 << 16, Integer.MAX_VALUE - 16);
}
