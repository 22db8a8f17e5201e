package dist.code;

import dist.cli.SchedulerCommand;
import dist.cli.UsageException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scheduler's --plugin option refuses a class it cannot use before listening anywhere. */
class PluginOptionTest {
    @Test
    void anUnknownPluginClassIsAUsageErrorThatSaysWhatToDo() {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        UsageException e = assertThrows(UsageException.class, () -> SchedulerCommand.run(
                new String[]{"--port", "0", "--plugin", "com.acme.NoSuchPlugin"}, sink, sink));
        assertTrue(e.getMessage().contains("com.acme.NoSuchPlugin") && e.getMessage().contains("class path"),
                e.getMessage());
        UsageException notPlugin = assertThrows(UsageException.class, () -> SchedulerCommand.run(
                new String[]{"--port", "0", "--plugin", "java.lang.String"}, sink, sink));
        assertTrue(notPlugin.getMessage().contains("SchedulerPlugin"), notPlugin.getMessage());
    }
}
