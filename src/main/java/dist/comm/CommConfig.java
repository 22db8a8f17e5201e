package dist.comm;

import dist.protocol.Role;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Connection settings: timeouts, limits against exhaustion, and who may connect.
 *
 * <p>{@link #DEFAULT} reads these system properties (a bad value is reported and replaced by the
 * default):
 * <pre>
 * dist.comm.connect-timeout          10s   how long a connect keeps retrying
 * dist.comm.request-timeout          30s   default bound of a request
 * dist.comm.handshake-timeout        10s   a peer silent this long after connecting is dropped
 * dist.comm.max-frames               65536 frames in one message
 * dist.comm.max-frame-bytes          2147483631 bytes in one frame
 * dist.comm.max-message-bytes        half the heap (64 MiB..4 GiB) bytes in one message (all frames together,
 *                                    compressed ones counted as decompressed)
 * dist.comm.max-connections-per-peer 1024  open connections from one IP address to one listener
 * dist.comm.write-timeout            30s   a peer that takes no byte of what waits for it this long is dropped
 * dist.comm.max-send-queue-bytes     heap/32 (4..64 MiB) bytes that may wait for one peer (one message of any size passes)
 * dist.comm.keepalive                10s   a connection that received nothing this long sends a ping
 * dist.comm.idle-timeout             60s   a peer from which nothing at all arrives this long is dropped
 * </pre>
 * and {@link Security#fromEnvironment()} for the token and TLS.
 *
 * <pre>{@code
 * CommConfig c = CommConfig.DEFAULT.withSecurity(Security.none().withToken("s3cret-and-long"));
 * }</pre>
 *
 * @param connectTimeout        how long {@link Connection#connect} keeps retrying, with back-off
 * @param requestTimeout        default bound of {@link Connection#request(dist.protocol.Message)}
 * @param handshakeTimeout      a peer that does not complete the handshake (TLS and token included) in this
 *                              time is dropped
 * @param maxFrames             most frames in one message
 * @param maxFrameBytes         largest frame accepted, checked before allocation
 * @param maxMessageBytes       largest message (sum of its frames), checked before allocation; memory for a
 *                              large frame is taken as its bytes arrive, so a peer holds at most about four
 *                              times what it really sent
 * @param maxConnectionsPerPeer most connections one IP address may hold open to one listener
 * @param security              token and TLS
 * @param liveness              how long a peer may stay behind or silent, and how much may wait for it
 */
public record CommConfig(Duration connectTimeout, Duration requestTimeout, Duration handshakeTimeout,
                         int maxFrames, long maxFrameBytes, long maxMessageBytes, int maxConnectionsPerPeer,
                         Security security, Liveness liveness) {

    /**
     * What a connection tolerates from its peer before it drops it with a log line that says why. Sends
     * never wait for the network: what the socket does not take at once waits in the connection's queue.
     *
     * <pre>{@code
     * CommConfig c = CommConfig.DEFAULT.withLiveness(
     *         new CommConfig.Liveness(Duration.ofSeconds(5), 16 << 20, Duration.ofSeconds(2), Duration.ofSeconds(10)));
     * }</pre>
     *
     * @param writeTimeout      a peer that takes not one byte of what waits for it for this long is dropped;
     *                          a slow peer that keeps taking bytes is not
     * @param maxSendQueueBytes bytes that may wait for one peer; a message that finds the queue empty always
     *                          passes, whatever its size. Over the bound, a thread that may wait (an
     *                          application thread, or the peer's own reader) waits for room; a state machine's
     *                          thread never waits: the peer is dropped, unless it took bytes within the last
     *                          second (a burst to a fast peer), and then at four times the bound
     * @param keepalive         a connection that received nothing for this long sends a ping, which the peer's
     *                          reader answers
     * @param idleTimeout       a peer from which nothing at all arrives for this long is dropped (a half-open
     *                          connection, a stopped process); longer than {@code keepalive}
     */
    public record Liveness(Duration writeTimeout, long maxSendQueueBytes, Duration keepalive, Duration idleTimeout) {

        /** A 32nd of the heap, 4..64 MiB: several slow peers together must not fill a small heap. */
        public static final long DEFAULT_MAX_SEND_QUEUE_BYTES = Math.min(64L << 20,
                Math.max(4L << 20, Runtime.getRuntime().maxMemory() / 32));

        /** 30 s to take a byte, a 32nd of the heap waiting, a ping after 10 s of quiet, dropped after 60 s of silence. */
        public static final Liveness DEFAULTS = new Liveness(Duration.ofSeconds(30), DEFAULT_MAX_SEND_QUEUE_BYTES,
                Duration.ofSeconds(10), Duration.ofSeconds(60));

        public Liveness {
            Objects.requireNonNull(writeTimeout, "writeTimeout");
            Objects.requireNonNull(keepalive, "keepalive");
            Objects.requireNonNull(idleTimeout, "idleTimeout");
            if (maxSendQueueBytes < 1 || !writeTimeout.isPositive() || !keepalive.isPositive()
                    || idleTimeout.compareTo(keepalive) <= 0) {
                throw new IllegalArgumentException("Liveness needs a positive write timeout, queue bound and"
                        + " keepalive, and an idle timeout longer than the keepalive; got " + writeTimeout + ", "
                        + maxSendQueueBytes + ", " + keepalive + ", " + idleTimeout);
            }
        }

        /** The defaults as overridden by the {@code dist.comm.*} system properties. */
        public static Liveness fromSystemProperties() {
            Duration keepalive = duration("dist.comm.keepalive", DEFAULTS.keepalive);
            Duration idle = duration("dist.comm.idle-timeout", DEFAULTS.idleTimeout);
            if (idle.compareTo(keepalive) <= 0) {
                LOG.log(System.Logger.Level.WARNING, "dist.comm.idle-timeout (" + idle.toMillis()
                        + " ms) must be longer than dist.comm.keepalive (" + keepalive.toMillis() + " ms); pinging"
                        + " after a third of the idle timeout instead");
                keepalive = idle.dividedBy(3);
            }
            return new Liveness(duration("dist.comm.write-timeout", DEFAULTS.writeTimeout),
                    number("dist.comm.max-send-queue-bytes", DEFAULT_MAX_SEND_QUEUE_BYTES, 1, Long.MAX_VALUE),
                    keepalive, idle);
        }
    }

    static final System.Logger LOG = System.getLogger("dist.comm");

    /** The default message limit: half the heap, at least 64 MiB and at most 4 GiB. */
    public static final long DEFAULT_MAX_MESSAGE_BYTES = Math.min(4L << 30,
            Math.max(64L << 20, Runtime.getRuntime().maxMemory() / 2));
    public static final int DEFAULT_MAX_CONNECTIONS_PER_PEER = 1024;

    /** Defaults, overridden by {@code dist.comm.*} system properties and the environment's security. */
    public static final CommConfig DEFAULT = fromSystemProperties();

    /** How long {@link Connection#call} polls for a reply before it parks ({@code dist.comm.reply-spin-us}). */
    static final long REPLY_SPIN_NANOS = 1000 * number("dist.comm.reply-spin-us", 200, 0, 1_000_000);

    /**
     * Which connections read on a platform thread instead of a virtual one
     * ({@code dist.comm.platform-readers}): {@code auto} (those to a scheduler, and any other while the
     * process has fewer than {@code dist.comm.platform-reader-limit} (256) platform readers),
     * {@code scheduler} (only those to a scheduler), {@code all} or {@code none}. Bytes arriving wake a
     * platform reader in one step and a virtual one in two (the poller, then a carrier): on loopback
     * that second step is about half a small round trip. A virtual reader costs no OS thread, which a
     * scheduler with thousands of peers needs: past the limit, its connections read on virtual threads.
     */
    static final String PLATFORM_READERS = choice("dist.comm.platform-readers", "auto", "scheduler", "all", "none");
    static final int PLATFORM_READER_LIMIT = (int) number("dist.comm.platform-reader-limit", 256, 0, 1_000_000);

    /** Whether a new connection to a peer of this role reads on a platform thread, {@code open} such readers running. */
    static boolean platformReader(Role peer, int open) {
        return platformReader(PLATFORM_READERS, peer, open, PLATFORM_READER_LIMIT);
    }

    static boolean platformReader(String mode, Role peer, int open, int limit) {
        return switch (mode) {
            case "all" -> true;
            case "none" -> false;
            case "scheduler" -> peer == Role.SCHEDULER;
            default -> peer == Role.SCHEDULER || open < limit;
        };
    }

    public CommConfig {
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        Objects.requireNonNull(security, "security");
        Objects.requireNonNull(liveness, "liveness");
        if (maxMessageBytes < 1 || maxConnectionsPerPeer < 1) {
            throw new IllegalArgumentException("maxMessageBytes and maxConnectionsPerPeer must be positive, got "
                    + maxMessageBytes + " and " + maxConnectionsPerPeer);
        }
    }

    /** Settings with the default liveness bounds. */
    public CommConfig(Duration connectTimeout, Duration requestTimeout, Duration handshakeTimeout,
                      int maxFrames, long maxFrameBytes, long maxMessageBytes, int maxConnectionsPerPeer,
                      Security security) {
        this(connectTimeout, requestTimeout, handshakeTimeout, maxFrames, maxFrameBytes, maxMessageBytes,
                maxConnectionsPerPeer, security, Liveness.DEFAULTS);
    }

    /** Settings with the default message and connection limits, the default liveness bounds and no security. */
    public CommConfig(Duration connectTimeout, Duration requestTimeout, Duration handshakeTimeout,
                      int maxFrames, long maxFrameBytes) {
        this(connectTimeout, requestTimeout, handshakeTimeout, maxFrames, maxFrameBytes, DEFAULT_MAX_MESSAGE_BYTES,
                DEFAULT_MAX_CONNECTIONS_PER_PEER, Security.none());
    }

    public CommConfig withSecurity(Security s) {
        return new CommConfig(connectTimeout, requestTimeout, handshakeTimeout, maxFrames, maxFrameBytes,
                maxMessageBytes, maxConnectionsPerPeer, s, liveness);
    }

    public CommConfig withConnectTimeout(Duration d) {
        return new CommConfig(d, requestTimeout, handshakeTimeout, maxFrames, maxFrameBytes, maxMessageBytes,
                maxConnectionsPerPeer, security, liveness);
    }

    public CommConfig withHandshakeTimeout(Duration d) {
        return new CommConfig(connectTimeout, requestTimeout, d, maxFrames, maxFrameBytes, maxMessageBytes,
                maxConnectionsPerPeer, security, liveness);
    }

    /** These settings with other frame, message and connection limits. */
    public CommConfig withLimits(int frames, long frameBytes, long messageBytes, int connectionsPerPeer) {
        return new CommConfig(connectTimeout, requestTimeout, handshakeTimeout, frames, frameBytes, messageBytes,
                connectionsPerPeer, security, liveness);
    }

    /** These settings with other bounds on slow and silent peers. */
    public CommConfig withLiveness(Liveness l) {
        return new CommConfig(connectTimeout, requestTimeout, handshakeTimeout, maxFrames, maxFrameBytes,
                maxMessageBytes, maxConnectionsPerPeer, security, l);
    }

    /** The defaults as overridden by {@code dist.comm.*} system properties (see the class comment). */
    public static CommConfig fromSystemProperties() {
        return new CommConfig(
                duration("dist.comm.connect-timeout", Duration.ofSeconds(10)),
                duration("dist.comm.request-timeout", Duration.ofSeconds(30)),
                duration("dist.comm.handshake-timeout", Duration.ofSeconds(10)),
                (int) number("dist.comm.max-frames", 1 << 16, 1, Integer.MAX_VALUE),
                number("dist.comm.max-frame-bytes", Integer.MAX_VALUE - 16, 0, Integer.MAX_VALUE - 16),
                number("dist.comm.max-message-bytes", DEFAULT_MAX_MESSAGE_BYTES, 1, Long.MAX_VALUE),
                (int) number("dist.comm.max-connections-per-peer", DEFAULT_MAX_CONNECTIONS_PER_PEER, 1,
                        Integer.MAX_VALUE),
                Security.fromEnvironment(),
                Liveness.fromSystemProperties());
    }

    private static long number(String key, long dflt, long min, long max) {
        String v = System.getProperty(key);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v.strip().replace("_", ""));
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        LOG.log(System.Logger.Level.WARNING, "-D" + key + "=" + v + " is not a whole number in " + min + ".." + max
                + "; using " + dflt);
        return dflt;
    }

    /** One of {@code values}, the first being the default. */
    static String choice(String key, String... values) {
        String v = System.getProperty(key);
        if (v == null || v.isBlank()) {
            return values[0];
        }
        String s = v.strip().toLowerCase(java.util.Locale.ROOT);
        if (List.of(values).contains(s)) {
            return s;
        }
        LOG.log(System.Logger.Level.WARNING, "-D" + key + "=" + v + " is not one of " + String.join(", ", values)
                + "; using " + values[0]);
        return values[0];
    }

    /** "250ms", "10s", "2m" or a plain number of seconds. */
    private static Duration duration(String key, Duration dflt) {
        String v = System.getProperty(key);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        String s = v.strip().toLowerCase(java.util.Locale.ROOT);
        try {
            Duration d;
            if (s.endsWith("ms")) {
                d = Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
            } else if (s.endsWith("s")) {
                d = Duration.ofMillis(Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1000));
            } else if (s.endsWith("m")) {
                d = Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)) * 60);
            } else {
                d = Duration.ofMillis(Math.round(Double.parseDouble(s) * 1000));
            }
            if (!d.isNegative() && !d.isZero()) {
                return d;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        LOG.log(System.Logger.Level.WARNING, "-D" + key + "=" + v + " is not a positive duration such as 250ms, 10s"
                + " or 2m; using " + dflt.toMillis() + " ms");
        return dflt;
    }
}
