package dist.worker;

import dist.protocol.Message;

import java.util.List;

/**
 * What the I/O shell must do after {@link WorkerMachine#handle}; instructions are returned in the
 * order the shell should carry them out.
 */
public sealed interface WorkerInstruction {

    /**
     * Run a task; every dependency is in the shell's store. {@code clientId} (nullable) submitted
     * it: its classes load through that client's loader. With {@code announce}, the shell writes a
     * {@link Message.TasksStarted} for it to the scheduler before the task runs. {@code span} (nullable) is
     * the innermost span it was submitted in, which its time is counted in.
     */
    record Execute(String key, byte[] run, List<String> dependencies, String clientId, boolean announce, String span)
            implements WorkerInstruction {
        public Execute(String key, byte[] run, List<String> dependencies, String clientId, boolean announce) {
            this(key, run, dependencies, clientId, announce, null);
        }

        public Execute(String key, byte[] run, List<String> dependencies, String clientId) {
            this(key, run, dependencies, clientId, true);
        }

        public Execute(String key, byte[] run, List<String> dependencies) {
            this(key, run, dependencies, null);
        }
    }

    /**
     * Get these keys from {@code peer} with one {@code GetData}, store what arrives, then report
     * {@link WorkerEvent.FetchDone} (or {@link WorkerEvent.FetchFailed} if the peer is unreachable).
     */
    record Fetch(String peer, List<String> keys) implements WorkerInstruction {}

    /** Send this message to the scheduler. */
    record SendToScheduler(Message message) implements WorkerInstruction {}

    /** Remove this key's data from the shell's store. */
    record DropData(String key) implements WorkerInstruction {}
}
