package dist.scheduler;

import java.util.LinkedHashSet;

/** A client and the keys it holds futures for. */
final class ClientState {
    final String id;
    final LinkedHashSet<TaskState> wants = new LinkedHashSet<>();

    ClientState(String id) {
        this.id = id;
    }
}
