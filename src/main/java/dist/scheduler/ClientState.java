package dist.scheduler;


/** A client and the keys it holds futures for. */
final class ClientState {
    final String id;
    final TaskSet wants = new TaskSet();
    /** {@code {this}}: the wanters array of every task only this client wants, shared. */
    final ClientState[] alone = {this};

    /** A holder that is not a connection (a published dataset): it is sent nothing. */
    final boolean silent;

    ClientState(String id) {
        this(id, false);
    }

    ClientState(String id, boolean silent) {
        this.id = id;
        this.silent = silent;
    }
}
