package dist;

/**
 * Where the scheduler has a task: {@code state} is "waiting", "no-worker", "processing", "memory",
 * "erred", "released", or "unknown" when the scheduler does not know the key; {@code reason} says in
 * words why a task in "no-worker" cannot run yet (no worker matches its restrictions, or has its
 * resources free), and is null otherwise.
 *
 * <pre>{@code
 * Future<Integer> f = client.with(Options.defaults().workers("gpu-box")).submit(Demo::inc, 1);
 * TaskStatus s = client.taskStatus(f);   // state "no-worker", reason "no connected worker matches ..."
 * }</pre>
 */
public record TaskStatus(String key, String state, String reason) {
}
