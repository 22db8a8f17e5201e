package dist;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The committed overloads are what {@link GenerateCalls} writes: an edit by hand is caught here. */
class GeneratedCallsTest {
    private static final Path DIR = Path.of("src/main/java/dist");

    @Test
    void submitCallsAreUpToDate() throws IOException {
        assertEquals(GenerateCalls.submitCalls(), Files.readString(DIR.resolve("SubmitCalls.java")),
                "regenerate: java src/test/java/dist/GenerateCalls.java src/main/java/dist");
    }

    @Test
    void delayedCallsAreUpToDate() throws IOException {
        assertEquals(GenerateCalls.delayedCalls(), Files.readString(DIR.resolve("DelayedCalls.java")),
                "regenerate: java src/test/java/dist/GenerateCalls.java src/main/java/dist");
    }
}
