package dist.comm;

import dist.protocol.Message;
import dist.protocol.MessageCodec;

import java.util.List;

/** Message to frames and back; the real one is {@link MessageCodec}, tests may substitute their own. */
interface FrameCodec {

    List<byte[]> encode(Message message);

    Message decode(List<byte[]> frames);

    FrameCodec DEFAULT = new FrameCodec() {
        @Override
        public List<byte[]> encode(Message message) {
            return MessageCodec.get().encode(message);
        }

        @Override
        public Message decode(List<byte[]> frames) {
            return MessageCodec.get().decode(frames);
        }
    };
}
