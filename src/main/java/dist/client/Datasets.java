package dist.client;

import java.util.List;

/**
 * The datasets a client published, kept to publish them again on a scheduler that restarts.
 * Internal: what {@link DataOps} tells the core.
 */
public interface Datasets {

    /** This client published {@code name}: its keys and encoded shape. */
    void published(String name, List<String> keys, byte[] shape);

    /** This client unpublished {@code name}: it is not published again. */
    void unpublished(String name);
}
