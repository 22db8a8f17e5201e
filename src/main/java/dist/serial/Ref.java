package dist.serial;

/** A reference to a value by key, resolved when decoding (a future passed as an argument travels as one). */
public record Ref(String key) {
}
