package dist.nanny;

import dist.protocol.Message;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The class loaders a nanny decodes its plugins with, one per client that registered one: a class
 * the nanny's own class path lacks is fetched from that client through the scheduler, as a worker
 * fetches a task's classes, and defined here. Parent-first: the nanny's classes (dist's, and an
 * application's on its class path) win.
 */
final class PluginClasses {
    private static final System.Logger LOG = System.getLogger("dist.nanny");
    private final ClassLoader base;
    private final Supplier<dist.comm.Connection> scheduler;
    private final Duration timeout;
    private final Map<String, ClassLoader> loaders = new ConcurrentHashMap<>();

    PluginClasses(ClassLoader base, Supplier<dist.comm.Connection> scheduler, Duration timeout) {
        this.base = base;
        this.scheduler = scheduler;
        this.timeout = timeout;
    }

    /** The loader for the plugins of {@code clientId} (null: the nanny's own). */
    ClassLoader forClient(String clientId) {
        return clientId == null ? base : loaders.computeIfAbsent(clientId, Fetching::new);
    }

    private byte[] fetch(String clientId, String className) {
        dist.comm.Connection c = scheduler.get();
        if (c == null) {
            return null;
        }
        try {
            Message m = c.request(new Message.ClassRequest(clientId, className)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return m instanceof Message.ClassBytes b ? b.bytes() : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "fetching class " + className + " of client " + clientId + " failed: " + e);
            return null;
        }
    }

    private final class Fetching extends ClassLoader {
        private final String clientId;

        Fetching(String clientId) {
            super("nanny-plugins-" + clientId, base);
            this.clientId = clientId;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            byte[] b = fetch(clientId, name);
            if (b == null) {
                throw new ClassNotFoundException(name + " is neither on the nanny's class path nor sent by client "
                        + clientId);
            }
            return defineClass(name, b, 0, b.length);
        }
    }
}
