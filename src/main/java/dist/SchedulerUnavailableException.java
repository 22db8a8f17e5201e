package dist;

/**
 * The scheduler cannot be reached: it did not answer a connect, the connection was lost and not
 * restored within {@code distributed.client.reconnect-timeout}, or the client is closed. The message
 * names the scheduler's address; a closed or lost client stays so: connect a new one.
 *
 * <pre>{@code
 * try (Client c = Client.connect("10.0.0.5:8786")) {
 *     ...
 * } catch (SchedulerUnavailableException e) {
 *     System.err.println("no scheduler at " + e.address());
 * }
 * }</pre>
 */
public class SchedulerUnavailableException extends DistException {
    private final String address;

    public SchedulerUnavailableException(String address, String message, Throwable cause) {
        super(message.contains(String.valueOf(address)) ? message : message + " (scheduler " + address + ")", cause);
        this.address = address;
    }

    /** The scheduler's address, "host:port". */
    public String address() {
        return address;
    }
}
