package dist.client;

import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** What a client keeps to send again: a recipe goes once its key settled and nothing kept needs it. */
class RecipesTest {

    static TaskSpec spec(String key, String... deps) {
        return new TaskSpec(key, new byte[] {1}, List.of(deps), 0, null);
    }

    @Test
    void aChainGoesWholeOnceItsOutputSettles() {
        Recipes r = new Recipes();
        r.add(List.of(spec("a"), spec("b", "a"), spec("c", "b")), List.of("c"));
        assertTrue(r.has("a") && r.has("b") && r.has("c"), "the output's inputs are kept while it is pending");
        r.settle("c");
        assertFalse(r.has("c"));
        assertFalse(r.has("b"), "nothing kept needs b any more");
        assertFalse(r.has("a"), "nor a, freed by b's removal");
    }

    @Test
    void anInputStaysWhileAnotherPendingOutputNeedsIt() {
        Recipes r = new Recipes();
        r.add(List.of(spec("a"), spec("b", "a"), spec("c", "a")), List.of("b", "c"));
        r.settle("b");
        assertFalse(r.has("b"));
        assertTrue(r.has("a"), "c still needs a");
        r.settle("c");
        assertFalse(r.has("a") || r.has("c"));
    }

    @Test
    void anInputNothingLiveNeedsIsNotKeptAndASettledKeyGoesAtOnce() {
        Recipes r = new Recipes();
        r.add(List.of(spec("x")), List.of());
        assertFalse(r.has("x"), "an input no kept recipe needs");
        r.add(List.of(spec("y")), List.of("y"));
        assertTrue(r.has("y"));
        r.settle("y");
        assertFalse(r.has("y"));
        r.add(List.of(spec("y")), List.of("y"));
        assertTrue(r.has("y"), "the same key submitted again is kept again");
    }
}
