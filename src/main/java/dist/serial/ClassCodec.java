package dist.serial;

/**
 * Encodes and decodes one class the serializer does not handle by itself. Register it with
 * {@link Registry#register(Class, ClassCodec)}; both ends need the same codec.
 *
 * <pre>{@code
 * record Point(int x, int y) {}          // records need no codec; a plain class does:
 * class PointCodec implements ClassCodec<Pt> {
 *     public void write(Pt p, SerialWriter out) { out.writeZigzag(p.x); out.writeZigzag(p.y); }
 *     public Pt read(SerialReader in) { return new Pt((int) in.readZigzag(), (int) in.readZigzag()); }
 * }
 * Registry r = Registry.defaults().register(Pt.class, new PointCodec());
 * }</pre>
 *
 * <p>{@code read} must consume exactly what {@code write} wrote. Exceptions thrown by {@code read}
 * surface as {@link DecodeException}.
 */
public interface ClassCodec<T> {
    void write(T value, SerialWriter out);

    T read(SerialReader in);
}
