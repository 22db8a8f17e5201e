package dist.protocol;

import java.util.List;

/**
 * The decoded form of {@link TaskSpec#run()}: a function and its arguments. The client encodes
 * it with futures replaced by {@link dist.serial.Ref}s; the worker decodes it with each ref
 * resolved to the dependency's value, then calls {@code function.invoke(args.toArray())}.
 * {@code args} is a List (it may hold nulls) so it needs no array support in the serializer.
 */
public record TaskCall(Invokable function, List<Object> args) {
}
