package dist.worker;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.protocol.Role;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A worker's connections to its peers, one per address: made on first use, made again once closed
 * or dropped after a failure. {@code Connection c = peers.get("10.0.0.7:40123");}
 */
final class PeerLinks {
    /**
     * The connect timeout to a peer, at most: a peer is up or gone (killed, restarted elsewhere), and a
     * dead one must not cost the scheduler's connect timeout; the fetch fails and the data is found
     * elsewhere or recomputed.
     */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);

    private final CommConfig toPeer;
    private final Map<String, Connection> links = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();

    PeerLinks(CommConfig comm) {
        this.toPeer = comm.withConnectTimeout(CONNECT_TIMEOUT.compareTo(comm.connectTimeout()) < 0
                ? CONNECT_TIMEOUT : comm.connectTimeout());
    }

    /** The open connection to {@code address}, connecting when there is none. */
    Connection get(String address) throws IOException {
        Connection c = links.get(address);
        if (c != null && c.isOpen()) {
            return c;
        }
        lock.lock();
        try {
            c = links.get(address);
            if (c == null || !c.isOpen()) {
                c = Connection.connect(address, Role.PEER, toPeer, (conn, m, id) -> { });
                links.put(address, c);
            }
            return c;
        } finally {
            lock.unlock();
        }
    }

    /** Aborts and forgets the connection to {@code address} after {@code cause}: the next use connects again. */
    void drop(String address, Throwable cause) {
        Connection c = links.remove(address);
        if (c != null) {
            c.abort(cause);
        }
    }

    /** Closes every connection, as the worker closes. */
    void closeAll() {
        for (Connection c : links.values()) {
            c.close();
        }
    }
}
