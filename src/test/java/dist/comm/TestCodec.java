package dist.comm;

import dist.protocol.Message;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A hand-written codec for the few messages the connection tests use: exercises frames without the serializer. */
final class TestCodec implements Codec {

    static final TestCodec INSTANCE = new TestCodec();

    @Override
    public List<byte[]> encode(Message message) {
        return switch (message) {
            case Message.Ping p -> List.of(ByteBuffer.allocate(9).put((byte) 1).putLong(p.nonce()).array());
            case Message.Ack a -> List.of(new byte[] {2});
            case Message.ErrorReply e -> List.of(withTag(3, e.message().getBytes(StandardCharsets.UTF_8)));
            case Message.DataReply d -> {
                List<byte[]> frames = new ArrayList<>();
                ByteBuffer h = ByteBuffer.allocate(1 << 16).put((byte) 4).putInt(d.data().size());
                frames.add(null);
                for (Map.Entry<String, byte[]> e : d.data().entrySet()) {
                    byte[] k = e.getKey().getBytes(StandardCharsets.UTF_8);
                    h.putInt(k.length).put(k);
                    frames.add(e.getValue());
                }
                frames.set(0, java.util.Arrays.copyOf(h.array(), h.position()));
                yield frames;
            }
            default -> throw new IllegalArgumentException("test codec has no form for " + message);
        };
    }

    private static byte[] withTag(int tag, byte[] body) {
        return ByteBuffer.allocate(1 + body.length).put((byte) tag).put(body).array();
    }

    @Override
    public Message decode(List<byte[]> frames) {
        ByteBuffer h = ByteBuffer.wrap(frames.get(0));
        return switch (h.get()) {
            case 1 -> new Message.Ping(h.getLong());
            case 2 -> new Message.Ack();
            case 3 -> new Message.ErrorReply(new String(frames.get(0), 1, frames.get(0).length - 1, StandardCharsets.UTF_8));
            case 4 -> {
                int n = h.getInt();
                Map<String, byte[]> data = new LinkedHashMap<>();
                for (int i = 0; i < n; i++) {
                    byte[] k = new byte[h.getInt()];
                    h.get(k);
                    data.put(new String(k, StandardCharsets.UTF_8), frames.get(1 + i));
                }
                yield new Message.DataReply(data);
            }
            default -> throw new IllegalArgumentException("test codec: unknown tag " + frames.get(0)[0]);
        };
    }
}
