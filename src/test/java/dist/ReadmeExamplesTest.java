package dist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@code ```java} block of README.md compiles against the project: a block declaring a class
 * compiles as it is, a block of statements inside a method with a {@code client} at hand. A block
 * that is not meant to compile says so in its fence ({@code ```java module-info}).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ReadmeExamplesTest {
    private static final Pattern FENCE = Pattern.compile("(?m)^```([^\\n]*)\\n(.*?)^```", Pattern.DOTALL);
    private static final Pattern TYPE = Pattern.compile("(?m)^(?:public\\s+)?(?:final\\s+)?(?:class|record|interface|enum)\\s+(\\w+)");

    /** Functions the statement blocks may name, as the README's own Demo class defines them. */
    private static final String DEMO = """
            import java.util.List;

            class Demo {
                static int inc(int x) { return x + 1; }
                static int add(int a, int b) { return a + b; }
                static int square(int x) { return x * x; }
                static int neg(int x) { return -x; }
                static int sum(List<Integer> xs) { return xs.stream().mapToInt(i -> i).sum(); }
            }
            """;

    static List<String> javaBlocks(String markdown) {
        List<String> blocks = new ArrayList<>();
        Matcher m = FENCE.matcher(markdown);
        while (m.find()) {
            if (m.group(1).strip().equals("java")) {
                blocks.add(m.group(2));
            }
        }
        return blocks;
    }

    /** The block as compilation units: class name to source. */
    static Map<String, String> units(String block, int index) {
        Map<String, String> units = new LinkedHashMap<>();
        Matcher type = TYPE.matcher(block);
        if (type.find()) {
            units.put(type.group(1), block);
            return units;
        }
        StringBuilder imports = new StringBuilder("import dist.*;\nimport java.util.*;\nimport java.time.Duration;\n");
        StringBuilder body = new StringBuilder();
        for (String line : block.lines().toList()) {
            (line.startsWith("import ") ? imports : body).append(line).append('\n');
        }
        String name = "ReadmeBlock" + index;
        units.put(name, imports + "class " + name + " {\n    void run(Client client) throws Exception {\n"
                + body + "    }\n}\n");
        units.put("Demo", DEMO);
        return units;
    }

    @Test
    void everyJavaBlockCompiles() throws IOException {
        List<String> blocks = javaBlocks(Files.readString(Path.of("README.md")));
        assertFalse(blocks.isEmpty(), "README.md has no ```java block");
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < blocks.size(); i++) {
            List<CompileCheck.Error> errors = CompileCheck.errors(units(blocks.get(i), i));
            if (!errors.isEmpty()) {
                failures.add("block " + (i + 1) + ":\n" + blocks.get(i) + "\n" + errors);
            }
        }
        assertTrue(failures.isEmpty(), () -> String.join("\n\n", failures));
    }

    @Test
    void statementBlocksCompileInsideAMethod() {
        // the wrapping itself: a statement block with an import compiles, a wrong type does not
        assertTrue(CompileCheck.errors(units("import java.util.List;\nFuture<Integer> x = client.submit(Demo::inc, 1);\n", 0)).isEmpty());
        assertFalse(CompileCheck.errors(units("Future<Integer> x = client.submit(Demo::inc, \"1\");\n", 0)).isEmpty());
    }

    @Test
    void onlyPlainJavaFencesAreTaken() {
        String md = "```java\nclass A { }\n```\n\n```java module-info\nmodule m { }\n```\n\n```sh\nls\n```\n";
        assertTrue(javaBlocks(md).equals(List.of("class A { }\n")), () -> javaBlocks(md).toString());
    }
}
