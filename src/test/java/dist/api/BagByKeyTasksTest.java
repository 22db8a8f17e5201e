package dist.api;

import dist.config.Config;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link BagByKeyTest} with the shuffle made of graph tasks only ({@code distributed.shuffle.method=tasks}). */
class BagByKeyTasksTest extends BagByKeyTest {
    static Config.Override method;

    @BeforeAll
    static void tasksShuffle() {
        method = Config.set("distributed.shuffle.method", "tasks");
    }

    @AfterAll
    static void back() {
        method.close();
    }
}
