package dist.client;

import dist.Future;
import dist.Options;
import dist.protocol.Invokable;
import dist.protocol.TaskCall;
import dist.protocol.TaskSpec;

import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Submitting tasks through a client's core: calls of one function, or specs compiled from a
 * graph. Internal: what {@code dist.Submitter} and {@link GraphCompiler} need of the core.
 */
public interface Tasks {

    /** One task per call of {@code fn} (each call's arguments may hold futures), sent in slices; a Future each. */
    <R> List<Future<R>> submitMany(Options options, Invokable fn, List<List<Object>> calls);

    /**
     * Sends {@code specs} in one update and returns a Future per {@code wanted} key, in order. Keys of
     * {@code specs} that are not wanted are intermediates: the scheduler drops them once nothing needs them.
     */
    <R> List<Future<R>> submitSpecs(List<TaskSpec> specs, List<String> wanted);

    /** Encodes a task call with the client's codec; {@code replacer} as in {@link PayloadCodec#encode}. */
    byte[] encodeCall(TaskCall call, UnaryOperator<Object> replacer);

    /** A priority for the next task: higher {@code userPriority} first, then submission order. */
    long nextPriority(int userPriority);

    /** Replaces each Future of this client in a call's arguments by a Ref to its key and records the key in {@code deps}. */
    UnaryOperator<Object> futureReplacer(Set<String> deps);
}
