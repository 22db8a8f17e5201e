package dist;

/**
 * A worker or nanny plugin's setup threw while it was being registered. {@link #getCause()} is the
 * plugin's own exception (its class when loadable here, else a {@code dist.serial.RemoteException}
 * with the remote class name). The workers (nannies) carry on without the plugin; those where its
 * setup went through keep it until it is unregistered.
 *
 * <pre>{@code
 * try {
 *     client.registerPlugin(new MyPlugin());
 * } catch (PluginFailedException e) {
 *     System.err.println(e.plugin() + " failed on " + e.where() + ": " + e.getCause());
 * }
 * }</pre>
 */
public class PluginFailedException extends DistException {
    private final String plugin;
    private final String where;
    private final int failures;

    public PluginFailedException(String plugin, String where, int failures, Throwable cause) {
        super("plugin " + plugin + " failed on " + where
                + (failures > 1 ? " (and on " + (failures - 1) + " more)" : "") + ": " + cause, cause);
        this.plugin = plugin;
        this.where = where;
        this.failures = failures;
    }

    /** The plugin's name. */
    public String plugin() {
        return plugin;
    }

    /** The worker address (or nanny id) whose error this is: the first to fail. */
    public String where() {
        return where;
    }

    /** On how many workers (nannies) the setup failed. */
    public int failures() {
        return failures;
    }
}
