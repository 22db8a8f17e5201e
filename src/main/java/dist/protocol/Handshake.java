package dist.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * The first bytes each side sends: {@code "DIST"}, a u16 protocol version and a u8 {@link Role}.
 * Both sides send theirs at once, then read and check the peer's.
 *
 * <pre>{@code
 * Handshake.write(channel, Role.CLIENT);
 * Role peer = Handshake.read(channel);   // HandshakeException if the peer is not a dist endpoint
 * }</pre>
 */
public final class Handshake {

    public static final byte[] MAGIC = {'D', 'I', 'S', 'T'};
    public static final int VERSION = 1;
    /** Bytes of a handshake on the wire. */
    public static final int BYTES = MAGIC.length + 2 + 1;

    private Handshake() {
    }

    public static byte[] encode(Role role, int version) {
        ByteBuffer b = ByteBuffer.allocate(BYTES);
        b.put(MAGIC).putShort((short) version).put((byte) role.ordinal());
        return b.array();
    }

    public static void write(WritableByteChannel channel, Role role) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(encode(role, VERSION));
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
        ByteBuffer b = ByteBuffer.allocate(BYTES);
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
        return check(b.array());
    }

    /** What a partial handshake says, for errors raised before it completed (early close, timeout). */
    public static String incomplete(ByteBuffer partial, String what) {
        int n = partial.position();
        byte[] got = new byte[n];
        partial.duplicate().flip().get(got);
        if (n == 0) {
            return what + " before sending any handshake byte (expected \"DIST\", version " + VERSION + ", role)";
        }
        String magic = magicProblem(got);
        return what + " after " + n + " of " + BYTES + " handshake bytes"
                + (magic != null ? "; " + magic : " (" + describe(got) + ")");
    }

    static Role check(byte[] got) throws HandshakeException {
        String magic = magicProblem(got);
        if (magic != null) {
            throw new HandshakeException(magic);
        }
        int version = ((got[4] & 0xff) << 8) | (got[5] & 0xff);
        if (version != VERSION) {
            throw new HandshakeException("peer speaks protocol version " + version + ", expected " + VERSION
                    + " (run the same dist version on both ends)");
        }
        int role = got[6] & 0xff;
        Role[] roles = Role.values();
        if (role >= roles.length) {
            throw new HandshakeException("peer announced unknown role " + role + " (expected 0.." + (roles.length - 1)
                    + ": " + java.util.Arrays.toString(roles) + ")");
        }
        return roles[role];
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
            return " — an HTTP server?";
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
