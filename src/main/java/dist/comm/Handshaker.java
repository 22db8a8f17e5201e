package dist.comm;

import dist.protocol.Handshake;
import dist.protocol.HandshakeException;
import dist.protocol.Role;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Everything between TCP connect and the first message, under one deadline: TLS (when configured),
 * the {@link Handshake}, then, when both sides have a token, the challenge-response.
 *
 * <p>The token never travels: each side sends a random nonce in its handshake; the connecting side
 * proves first with HMAC-SHA256(token, label, "I", both nonces); the accepting side checks it, answers
 * a verdict byte and, if accepted, its own proof with "A". A side without the token learns nothing it
 * can replay: every proof is bound to fresh nonces and to its direction.
 */
final class Handshaker {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final System.Logger LOG = System.getLogger("dist.comm");
    private static final byte[] LABEL = "dist-token-proof-v2".getBytes(StandardCharsets.US_ASCII);
    private static final int PROOF_BYTES = 32;
    private static final int TLS_RECORD_HANDSHAKE = 0x16;

    /** The handshaken link: who the peer is and the channels to use (the socket itself, or TLS over it). */
    record Link(Role peerRole, ReadableByteChannel in, GatheringByteChannel out, TlsChannel tls) {
    }

    private Handshaker() {
    }

    /**
     * Runs the handshake as the connecting ({@code initiator}) or accepting side, closing the socket when
     * {@code config.handshakeTimeout()} passes first.
     */
    static Link run(SocketChannel ch, Role role, CommConfig config, String peer, boolean initiator)
            throws IOException {
        return run(ch, role, config, peer, initiator, config.handshakeTimeout());
    }

    /** As {@link #run(SocketChannel, Role, CommConfig, String, boolean)}, closing the socket after {@code timeout}. */
    static Link run(SocketChannel ch, Role role, CommConfig config, String peer, boolean initiator, Duration timeout)
            throws IOException {
        AtomicBoolean expired = new AtomicBoolean();
        AtomicBoolean done = new AtomicBoolean();
        AtomicBoolean http = new AtomicBoolean();
        ScheduledFuture<?> timer = Timers.TIMER.schedule(() -> {
            expired.set(true);
            Connection.closeQuietly(ch);
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        // an HTTP server waits silently for a request line our handshake never ends: ask it on the side
        ScheduledFuture<?> probe = !initiator || timeout.toNanos() <= PROBE_AFTER_NANOS ? null
                : Timers.TIMER.schedule(() -> Thread.ofVirtual().name("dist-handshake-probe").start(() -> {
                    if (!done.get() && answersHttp(ch, timeout.toNanos() - PROBE_AFTER_NANOS) && !done.get()) {
                        http.set(true);
                        Connection.closeQuietly(ch);
                    }
                }), PROBE_AFTER_NANOS, TimeUnit.NANOSECONDS);
        try {
            return steps(ch, role, config.security(), peer, initiator);
        } catch (IOException e) {
            if (http.get()) {
                throw new HandshakeException("peer " + peer + " is an HTTP server, not a dist endpoint: it answers"
                        + " HTTP and not dist's handshake (a dashboard's port? a scheduler prints its own address"
                        + " as 'scheduler at: HOST:PORT')", e);
            }
            if (expired.get()) {
                throw new HandshakeException("peer " + peer + " did not complete the handshake within "
                        + Connection.format(timeout) + (timeout.equals(config.handshakeTimeout())
                        ? " (CommConfig.handshakeTimeout): " : " (what was left of the connect timeout): ")
                        + e.getMessage(), e);
            }
            if (e instanceof HandshakeException) {
                throw new HandshakeException("peer " + peer + ": " + e.getMessage(), e);
            }
            SSLException ssl = sslCause(e);
            if (ssl != null) {
                String m = String.valueOf(ssl.getMessage());
                String hint = m.contains("nrecognized SSL message") || m.contains("plaintext")
                        ? " (the peer does not speak TLS: configure TLS on both ends)"
                        : " (both ends need certificates signed by the same CA: --tls-ca-file, --tls-cert, --tls-key)";
                throw new HandshakeException("peer " + peer + ": TLS failed: " + m + hint, e);
            }
            throw e;
        } finally {
            done.set(true);
            timer.cancel(false);
            if (probe != null) {
                probe.cancel(false);
            }
        }
    }

    /** How long a connecting side waits for the peer's first handshake byte before it asks whether the peer speaks HTTP. */
    static final long PROBE_AFTER_NANOS = 500_000_000L;

    /**
     * Whether the peer of {@code ch} answers an HTTP request, on a connection of its own (so the
     * handshake's stays untouched), within {@code timeoutNanos}.
     */
    static boolean answersHttp(SocketChannel ch, long timeoutNanos) {
        int ms = (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(ch.getRemoteAddress(), ms);
            s.setSoTimeout(ms);
            s.getOutputStream().write("HEAD / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] got = s.getInputStream().readNBytes(5);
            return new String(got, StandardCharsets.US_ASCII).equals("HTTP/");
        } catch (IOException | RuntimeException e) {
            return false; // no answer is no proof: the handshake's own deadline decides
        }
    }

    private static SSLException sslCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SSLException s) {
                return s;
            }
        }
        return null;
    }

    private static Link steps(SocketChannel ch, Role role, Security sec, String peer, boolean initiator)
            throws IOException {
        ReadableByteChannel in = ch;
        GatheringByteChannel out = ch;
        TlsChannel tls = null;
        if (sec.tlsEnabled()) {
            if (initiator) {
                tls = new TlsChannel(ch, sec.engine(true), null);
                tls.handshake();
                in = tls;
                out = tls;
            } else {
                // a TLS client speaks first with a handshake record; a plain one with "DIST"
                ByteBuffer first = ByteBuffer.allocate(1);
                while (first.hasRemaining()) {
                    if (ch.read(first) < 0) {
                        throw new HandshakeException("the peer closed the connection before sending any byte");
                    }
                }
                first.flip();
                if (first.get(0) == TLS_RECORD_HANDSHAKE) {
                    tls = new TlsChannel(ch, sec.engine(false), first);
                    tls.handshake();
                    in = tls;
                    out = tls;
                } else if (sec.encryptionRequired()) {
                    // tell a plain dist peer why, then refuse
                    Handshake.write(ch, role, Handshake.NEEDS_TLS, new byte[Handshake.NONCE_BYTES]);
                    throw new HandshakeException("it did not start TLS, and this listener requires encryption"
                            + " (TLS is configured; --allow-plaintext would serve plain peers too): refused");
                } else {
                    if (!sec.hasToken() && sec.plainPeerLogged.compareAndSet(false, true)) {
                        LOG.log(System.Logger.Level.WARNING, "served plain peer " + peer + " with no proof of"
                                + " who it is: " + sec.unauthenticatedCase());
                    }
                    in = new Prefixed(first, ch);
                }
            }
        }
        boolean token = sec.hasToken();
        byte[] nonce = new byte[Handshake.NONCE_BYTES];
        if (token) {
            RANDOM.nextBytes(nonce);
        }
        Handshake.write(out, role, token ? Handshake.TOKEN : 0, nonce);
        Handshake.Hello hello = Handshake.readHello(in);
        if ((hello.flags() & Handshake.NEEDS_TLS) != 0) {
            throw new HandshakeException("it requires TLS; configure --tls-ca-file,"
                    + " --tls-cert and --tls-key (or dist.comm.tls.*) on this side");
        }
        if (token && !hello.hasToken()) {
            throw new HandshakeException("it presented no token, and this side requires one: start it with"
                    + " --token-file or DIST_TOKEN");
        }
        if (!token && hello.hasToken()) {
            throw new HandshakeException("it requires a token: set DIST_TOKEN or --token-file (the same token as"
                    + " the " + hello.role().name().toLowerCase(java.util.Locale.ROOT) + ")");
        }
        if (token) {
            byte[] key = sec.token();
            byte[] iNonce = initiator ? nonce : hello.nonce();
            byte[] aNonce = initiator ? hello.nonce() : nonce;
            if (initiator) {
                writeFully(out, ByteBuffer.wrap(proof(key, 'I', iNonce, aNonce)));
                ByteBuffer verdict = readFully(in, 1);
                if (verdict.get(0) != 1) {
                    throw new HandshakeException("it refused our token: the tokens differ (use the same --token-file"
                            + " or DIST_TOKEN on every process of the cluster)");
                }
                byte[] theirs = readFully(in, PROOF_BYTES).array();
                if (!MessageDigest.isEqual(theirs, proof(key, 'A', iNonce, aNonce))) {
                    throw new HandshakeException("its token proof is wrong: it does not know this cluster's token");
                }
            } else {
                byte[] theirs = readFully(in, PROOF_BYTES).array();
                if (!MessageDigest.isEqual(theirs, proof(key, 'I', iNonce, aNonce))) {
                    writeFully(out, ByteBuffer.wrap(new byte[] {0}));
                    throw new HandshakeException("it presented a wrong token");
                }
                ByteBuffer answer = ByteBuffer.allocate(1 + PROOF_BYTES);
                answer.put((byte) 1).put(proof(key, 'A', iNonce, aNonce)).flip();
                writeFully(out, answer);
            }
        }
        return new Link(hello.role(), tls != null ? tls : ch, out, tls);
    }

    static byte[] proof(byte[] token, char direction, byte[] initiatorNonce, byte[] acceptorNonce) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(token, "HmacSHA256"));
            mac.update(LABEL);
            mac.update((byte) direction);
            mac.update(initiatorNonce);
            mac.update(acceptorNonce);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }

    private static void writeFully(GatheringByteChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

    private static ByteBuffer readFully(ReadableByteChannel in, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (in.read(b) < 0) {
                throw new HandshakeException("it closed the connection during the token exchange (" + b.position()
                        + " of " + n + " bytes)");
            }
        }
        return b.flip();
    }

    /** A channel that yields {@code prefix} first, then reads {@code rest}. */
    private static final class Prefixed implements ReadableByteChannel {
        private final ByteBuffer prefix;
        private final ReadableByteChannel rest;

        Prefixed(ByteBuffer prefix, ReadableByteChannel rest) {
            this.prefix = prefix;
            this.rest = rest;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (prefix.hasRemaining()) {
                int n = Math.min(prefix.remaining(), dst.remaining());
                dst.put(prefix.slice(prefix.position(), n));
                prefix.position(prefix.position() + n);
                return n;
            }
            return rest.read(dst);
        }

        @Override
        public boolean isOpen() {
            return rest.isOpen();
        }

        @Override
        public void close() throws IOException {
            rest.close();
        }
    }
}
