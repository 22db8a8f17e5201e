package dist.protocol;

import java.util.List;

/**
 * A task as the scheduler sees it: a key, the serialized call ({@code run}: function and
 * arguments, opaque to the scheduler), the keys it depends on, and its options.
 *
 * @param priority lower runs first; clients assign increasing numbers so earlier submissions go first
 * @param options  restrictions, resources, retries; {@code null} means defaults
 */
public record TaskSpec(String key, byte[] run, List<String> dependencies, long priority, TaskOptions options) {
}
