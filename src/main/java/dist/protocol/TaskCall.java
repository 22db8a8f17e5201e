package dist.protocol;

/**
 * The decoded form of {@link TaskSpec#run()}: a function and its arguments. The client encodes
 * it with futures replaced by {@link dist.serial.Ref}s; the worker decodes it with each ref
 * resolved to the dependency's value, then calls {@code function.invoke(args)}.
 */
public record TaskCall(Invokable function, Object[] args) {
}
