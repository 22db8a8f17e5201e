package dist.protocol;

/** Who is at the other end of a connection; exchanged in the handshake. */
public enum Role {
    SCHEDULER, WORKER, CLIENT, NANNY, PEER
}
