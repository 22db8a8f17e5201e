package dist.comm;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/** Baselines for the benchmarks: plain blocking socket channels on loopback, no framing. */
final class RawPeer implements AutoCloseable {

    final ServerSocketChannel server;
    final SocketChannel client;
    private final Thread thread;

    /**
     * {@code messageBytes} bytes per message; the peer answers each with {@code replyBytes} bytes
     * (an echo when equal, a one-byte acknowledgement for bulk).
     */
    RawPeer(int messageBytes, int replyBytes) throws IOException {
        server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        client = SocketChannel.open(server.getLocalAddress());
        client.setOption(StandardSocketOptions.TCP_NODELAY, true);
        SocketChannel peer = server.accept();
        peer.setOption(StandardSocketOptions.TCP_NODELAY, true);
        thread = Thread.ofPlatform().daemon().start(() -> serve(peer, messageBytes, replyBytes));
    }

    private static void serve(SocketChannel peer, int messageBytes, int replyBytes) {
        // a reused heap array, read a chunk at a time: the best case for a receiver that needs a byte[]
        byte[] in = new byte[messageBytes];
        ByteBuffer reply = ByteBuffer.allocate(replyBytes);
        try (peer) {
            while (true) {
                int pos = 0;
                while (pos < messageBytes) {
                    int r = peer.read(ByteBuffer.wrap(in, pos, Math.min(messageBytes - pos, 1 << 20)));
                    if (r < 0) {
                        return;
                    }
                    pos += r;
                }
                reply.clear();
                if (replyBytes == messageBytes) {
                    reply.put(in, 0, replyBytes).flip();
                }
                while (reply.hasRemaining()) {
                    peer.write(reply);
                }
            }
        } catch (IOException e) {
            // the benchmark closed the client
        }
    }

    /** Sends {@code message} (from a heap array, a chunk per call) and waits for the reply. */
    void exchange(byte[] message, ByteBuffer reply) throws IOException {
        for (int off = 0; off < message.length; ) {
            off += client.write(ByteBuffer.wrap(message, off, Math.min(message.length - off, 1 << 20)));
        }
        reply.clear();
        while (reply.hasRemaining()) {
            if (client.read(reply) < 0) {
                throw new IOException("raw peer closed");
            }
        }
    }

    /**
     * As {@link #exchange}, but the reply is polled for with non-blocking reads instead of a blocking
     * one: the raw counterpart of {@link Connection#call}. Switches the client to non-blocking mode.
     */
    void exchangePolling(byte[] message, ByteBuffer reply) throws IOException {
        if (client.isBlocking()) {
            client.configureBlocking(false);
        }
        for (int off = 0; off < message.length; ) {
            off += client.write(ByteBuffer.wrap(message, off, Math.min(message.length - off, 1 << 20)));
        }
        reply.clear();
        while (reply.hasRemaining()) {
            int r = client.read(reply);
            if (r < 0) {
                throw new IOException("raw peer closed");
            }
            if (r == 0) {
                Thread.onSpinWait();
            }
        }
    }

    @Override
    public void close() throws IOException {
        client.close();
        server.close();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
