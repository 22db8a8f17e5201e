package dist.scheduler;

import java.util.LinkedHashSet;

/** A client and the keys it holds futures for. */
final class ClientState {
    final String id;
    final LinkedHashSet<TaskState> wants = new LinkedHashSet<>();

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
