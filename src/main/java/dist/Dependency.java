package dist;

/**
 * What a {@link Delayed} call can depend on besides plain values: another Delayed, or a
 * {@link Future} already on the cluster. The call receives its value; {@code Delayed.of} takes one
 * wherever the function takes a {@code T}.
 *
 * <pre>{@code
 * Future<Integer> x = client.submit(Demo::inc, 1);
 * Delayed<Integer> y = Delayed.of(Demo::add, x, Delayed.of(Demo::inc, 2));   // x and the Delayed are dependencies
 * }</pre>
 *
 * @param <T> the value's type
 */
public sealed interface Dependency<T> permits Future, Delayed {
}
