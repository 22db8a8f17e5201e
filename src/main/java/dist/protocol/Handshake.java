package dist.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * The first bytes each side sends (after TLS, when TLS is on): {@code "DIST"}, a u16 protocol version,
 * a u8 {@link Role}, a u8 of flags ({@link #TOKEN}: this side proves a shared token; {@link #NEEDS_TLS}:
 * this side refuses a plain peer) and a 32-byte nonce for the token's challenge-response. Both sides
 * send theirs at once, then read and check the peer's.
 *
 * <pre>{@code
 * Handshake.write(channel, Role.CLIENT);
 * Role peer = Handshake.read(channel);   // HandshakeException if the peer is not a dist endpoint
 * }</pre>
 */
public final class Handshake {

    public static final byte[] MAGIC = {'D', 'I', 'S', 'T'};
    public static final int VERSION = 3;
    /** Bytes of a nonce. */
    public static final int NONCE_BYTES = 32;
    /** Bytes of a handshake on the wire. */
    public static final int BYTES = MAGIC.length + 2 + 1 + 1 + NONCE_BYTES;
    /** Flag: this side has a shared token and proves it after the handshake. */
    public static final int TOKEN = 1;
    /** Flag: this side requires TLS and refuses the (plain) peer that reads this. */
    public static final int NEEDS_TLS = 2;

    /**
     * A peer's handshake.
     *
     * @param role  what the peer is
     * @param flags {@link #TOKEN}, {@link #NEEDS_TLS}
     * @param nonce its challenge for the token proof (zeros without a token)
     */
    public record Hello(Role role, int flags, byte[] nonce) {
        public boolean hasToken() {
            return (flags & TOKEN) != 0;
        }
    }

    private Handshake() {
    }

    public static byte[] encode(Role role, int version) {
        return encode(role, version, 0, new byte[NONCE_BYTES]);
    }

    public static byte[] encode(Role role, int version, int flags, byte[] nonce) {
        if (nonce.length != NONCE_BYTES) {
            throw new IllegalArgumentException("a nonce has " + NONCE_BYTES + " bytes, got " + nonce.length);
        }
        ByteBuffer b = ByteBuffer.allocate(BYTES);
        b.put(MAGIC).putShort((short) version).put((byte) role.ordinal()).put((byte) flags).put(nonce);
        return b.array();
    }

    public static void write(WritableByteChannel channel, Role role) throws IOException {
        write(channel, role, 0, new byte[NONCE_BYTES]);
    }

    public static void write(WritableByteChannel channel, Role role, int flags, byte[] nonce) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(encode(role, VERSION, flags, nonce));
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    /**
     * Reads exactly the peer's handshake (never more) and checks it.
     *
     * @throws HandshakeException naming what the peer seems to be and what was expected
     */
    public static Role read(ReadableByteChannel channel) throws IOException {
        return readHello(channel).role();
    }

    /** Reads exactly the peer's handshake and checks it; as {@link #read} with the flags and nonce. */
    public static Hello readHello(ReadableByteChannel channel) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(BYTES);
        // magic and version first: a peer of another version may send a handshake of another length
        b.limit(MAGIC.length + 2);
        fill(channel, b);
        checkVersion(java.util.Arrays.copyOf(b.array(), MAGIC.length + 2));
        b.limit(BYTES);
        fill(channel, b);
        byte[] got = b.array();
        Role role = check(got);
        return new Hello(role, got[7] & 0xff, java.util.Arrays.copyOfRange(got, 8, BYTES));
    }

    private static void fill(ReadableByteChannel channel, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            int r;
            try {
                r = channel.read(b);
            } catch (IOException e) {
                throw new HandshakeException(incomplete(b, "the connection failed (" + e + ")"), e);
            }
            if (r < 0) {
                throw new HandshakeException(incomplete(b, "the peer closed the connection"));
            }
        }
    }

    /** What a partial handshake says, for errors raised before it completed (early close, timeout). */
    public static String incomplete(ByteBuffer partial, String what) {
        int n = partial.position();
        byte[] got = new byte[n];
        partial.duplicate().flip().get(got);
        if (n == 0) {
            return what + " before sending any handshake byte (expected \"DIST\", version " + VERSION + ", role,"
                    + " flags, nonce)";
        }
        String magic = magicProblem(got);
        return what + " after " + n + " of " + BYTES + " handshake bytes"
                + (magic != null ? "; " + magic : " (" + describe(got) + ")");
    }

    static Role check(byte[] got) throws HandshakeException {
        checkVersion(got);
        int role = got[6] & 0xff;
        Role[] roles = Role.values();
        if (role >= roles.length) {
            throw new HandshakeException("peer announced unknown role " + role + " (expected 0.." + (roles.length - 1)
                    + ": " + java.util.Arrays.toString(roles) + ")");
        }
        return roles[role];
    }

    private static void checkVersion(byte[] got) throws HandshakeException {
        String magic = magicProblem(got);
        if (magic != null) {
            throw new HandshakeException(magic);
        }
        int version = ((got[4] & 0xff) << 8) | (got[5] & 0xff);
        if (version != VERSION) {
            throw new HandshakeException("peer speaks protocol version " + version + ", expected " + VERSION
                    + " (run the same dist version on both ends)");
        }
    }

    /** Null when the bytes so far agree with the magic; else what the peer seems to be. */
    private static String magicProblem(byte[] got) {
        int n = Math.min(got.length, MAGIC.length);
        for (int i = 0; i < n; i++) {
            if (got[i] != MAGIC[i]) {
                return "peer sent " + describe(got) + guess(got) + "; expected a dist endpoint starting with \"DIST\"";
            }
        }
        return null;
    }

    private static String guess(byte[] got) {
        String s = new String(got, StandardCharsets.ISO_8859_1);
        if (s.startsWith("HTTP/")) {
            return " — an HTTP server? (a dashboard's port?)";
        }
        if (s.startsWith("GET ") || s.startsWith("POST") || s.startsWith("PUT ") || s.startsWith("HEAD")
                || s.startsWith("OPTIO") || s.startsWith("DELET") || s.startsWith("PATCH")) {
            return " — an HTTP client?";
        }
        if (s.startsWith("SSH-")) {
            return " — an SSH client?";
        }
        if (got.length >= 2 && got[0] == 0x16 && got[1] == 0x03) {
            return " — a TLS client? (this port does not speak TLS)";
        }
        return "";
    }

    /** Printable ASCII quoted, anything else in hex. */
    static String describe(byte[] got) {
        boolean printable = true;
        for (byte c : got) {
            if (c < 0x20 || c > 0x7e) {
                printable = false;
                break;
            }
        }
        if (printable) {
            return "'" + new String(got, StandardCharsets.US_ASCII) + "'";
        }
        StringBuilder sb = new StringBuilder("bytes 0x");
        for (byte c : got) {
            sb.append(String.format("%02x", c & 0xff));
        }
        return sb.toString();
    }
}
