package dist.comm;

import java.io.IOException;
import java.time.Duration;

/**
 * No connection to a peer could be made before the connect timeout: it refused, did not answer, or
 * its name did not resolve, on every attempt. Callers that know the setting's name (a command line
 * flag) say it from {@link #address()}, {@link #waited()} and {@link #attempts()}.
 *
 * <pre>{@code
 * try {
 *     Connection.connect("127.0.0.1:8786", Role.CLIENT, CommConfig.DEFAULT, handler);
 * } catch (UnreachableException e) {
 *     System.err.println("no scheduler at " + e.address() + " after " + e.attempts() + " attempts");
 * }
 * }</pre>
 */
public final class UnreachableException extends IOException {
    private final String address;
    private final Duration waited;
    private final int attempts;

    UnreachableException(String address, Duration waited, int attempts, IOException last) {
        super("could not connect to " + address + " within " + Connection.format(waited) + " (" + attempts
                + " attempts; last error: " + last + "); is the peer running, and is the connect timeout"
                + " (CommConfig.connectTimeout, -Ddist.comm.connect-timeout) long enough?", last);
        this.address = address;
        this.waited = waited;
        this.attempts = attempts;
    }

    /** The peer's "host:port". */
    public String address() {
        return address;
    }

    /** How long connecting was tried. */
    public Duration waited() {
        return waited;
    }

    /** How many connections were tried. */
    public int attempts() {
        return attempts;
    }

    /** The last attempt's error, e.g. a {@link java.net.ConnectException}: "Connection refused". */
    public IOException lastError() {
        return (IOException) getCause();
    }
}
