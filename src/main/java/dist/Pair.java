package dist;

/**
 * One match of a {@link Bag#join}: an element of the bag and the element of the other side with the
 * same key.
 *
 * <pre>{@code
 * Bag<Pair<Order, Customer>> joined = orders.join(customers, Order::customerId, Customer::id);
 * List<String> lines = joined.map(p -> p.left().item() + " for " + p.right().name()).compute(client);
 * }</pre>
 *
 * @param left  the element of the bag {@code join} was called on
 * @param right the matching element of the other side
 * @param <L>   the left element type
 * @param <R>   the right element type
 */
public record Pair<L, R>(L left, R right) {
}
