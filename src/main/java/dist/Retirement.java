package dist;

import java.util.Map;

/**
 * What {@link Client#retireWorkers(java.util.List)} did: the workers closed, each emptied first
 * (every result only it held was copied to a worker that stays, so nothing is recomputed), and the
 * workers that stay, each with the reason (no other worker, no room under the others' memory
 * limits, the deadline passed). A worker kept runs as before.
 *
 * <pre>{@code
 * Retirement r = client.retireWorkers(List.of("worker-3"));
 * r.retired().keySet();                                   // [127.0.0.1:40123] when it could be emptied
 * r.kept().forEach((w, why) -> System.out.println(w + " stays: " + why));
 * }</pre>
 *
 * @param retired the workers closed, by address, as the scheduler knew them just before
 * @param kept    the workers that stay, address to why
 */
public record Retirement(Map<String, WorkerInfo> retired, Map<String, String> kept) {
    public Retirement {
        retired = Map.copyOf(retired);
        kept = Map.copyOf(kept);
    }
}
