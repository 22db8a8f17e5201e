package dist;

/**
 * A key and what a {@link Bag} gathered for it: the elements of a group ({@link Bag#groupBy}), a
 * folded value ({@link Bag#foldBy}) or a count ({@link Bag#frequencies}).
 *
 * <pre>{@code
 * Map<Integer, List<String>> byLength = words.groupBy(String::length).compute(client).stream()
 *         .collect(Collectors.toMap(KeyValue::key, KeyValue::value));
 * }</pre>
 *
 * @param key   the key
 * @param value what belongs to it
 * @param <K>   the key type
 * @param <V>   the value type
 */
public record KeyValue<K, V>(K key, V value) {
}
