package dist.serial;

/**
 * An exception raised elsewhere whose class could not be rebuilt here (not loadable, or without a
 * usable constructor). It keeps the remote class name, message, stack trace and cause.
 *
 * <pre>{@code
 * try { future.result(); }
 * catch (RemoteException e) { if (e.remoteClassName().equals("com.acme.BadThing")) ... }
 * }</pre>
 */
public class RemoteException extends RuntimeException {
    private final String remoteClassName;
    private final String remoteMessage;

    public RemoteException(String remoteClassName, String remoteMessage, Throwable cause) {
        super(remoteMessage == null ? remoteClassName : remoteClassName + ": " + remoteMessage, cause);
        this.remoteClassName = remoteClassName;
        this.remoteMessage = remoteMessage;
    }

    /** The class name of the original exception, e.g. "com.acme.BadThing". */
    public String remoteClassName() {
        return remoteClassName;
    }

    /** The original exception's message, without the class name; may be null. */
    public String remoteMessage() {
        return remoteMessage;
    }
}
