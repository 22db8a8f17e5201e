package dist;

import dist.client.ClientCore;
import dist.protocol.Message;

import java.time.Duration;

/** Registers and removes worker and nanny plugins for {@link Client}. */
final class PluginCalls {
    /** How long a registration waits for the setups: the scheduler's own bound, then some. */
    static final Duration SETUP_WAIT = Duration.ofSeconds(130);
    private static final String SET_BY = "the scheduler's fixed bound on plugin setups (120 s)";

    private PluginCalls() {
    }

    static void register(Client client, Object plugin, String name, boolean nanny) {
        String kind = nanny ? "nanny" : "worker";
        if (plugin == null) {
            throw new IllegalArgumentException("registerPlugin needs a " + kind + " plugin instance, got null");
        }
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("the " + kind + " plugin " + plugin.getClass().getName()
                    + " has no name; name() must return one");
        }
        ClientCore core = client.core();
        core.classSource().note(plugin); // its class may come from a loader the client has not used yet
        byte[] bytes = core.encodeValue(plugin);
        Message reply = Calls.call(client.link, "Client.registerPlugin", SETUP_WAIT, SET_BY,
                () -> core.askScheduler(new Message.RegisterPlugin(name, bytes, nanny), SETUP_WAIT));
        switch (reply) {
            case Message.Ack a -> { }
            case Message.PluginFailed f -> throw new PluginFailedException(f.name(), f.where(), f.failures(),
                    core.mapError(f.error(), f.summary(), f.name()));
            case Message.ErrorReply e -> throw new DistException("registering " + kind + " plugin " + name
                    + " failed: " + e.message());
            default -> throw new DistException("the scheduler answered a plugin registration with " + reply);
        }
    }

    static void unregister(Client client, String name) {
        ClientCore core = client.core();
        Message reply = Calls.call(client.link, "Client.unregisterPlugin", SETUP_WAIT, SET_BY,
                () -> core.askScheduler(new Message.UnregisterPlugin(name), SETUP_WAIT));
        switch (reply) {
            case Message.Ack a -> { }
            case Message.PluginFailed f -> throw new PluginFailedException(f.name(), f.where(), f.failures(),
                    core.mapError(f.error(), f.summary(), f.name()));
            case Message.ErrorReply e -> throw new IllegalArgumentException(e.message());
            default -> throw new DistException("the scheduler answered a plugin removal with " + reply);
        }
    }
}
