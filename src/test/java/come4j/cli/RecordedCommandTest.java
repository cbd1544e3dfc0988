package come4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class RecordedCommandTest {
    private static String recorded(Object command, String... args) {
        CommandLine cl = new CommandLine(command);
        cl.parseArgs(args);
        return RecordedCommand.of(cl.getCommandSpec());
    }

    @Test
    void pathsBecomeAbsoluteOtherValuesStayAsTyped() {
        String here = Path.of("").toAbsolutePath().toString();
        assertEquals("come compress --model " + here + "/src/test/resources/fixtures/llama3-gqa-bf16 --out " + here + "/out/x"
                        + " --sparsity 0.3 --calib=" + here + "/src/test/resources/fixtures/ppl.txt --method come-p",
                recorded(new CompressCommand(), "--model", "src/test/resources/fixtures/llama3-gqa-bf16", "--out", "out/x",
                        "--sparsity", "0.3", "--calib=src/test/resources/fixtures/ppl.txt", "--method", "come-p"));
        // a name that is no file here stays as typed; a multi-valued option's every file is made absolute
        assertEquals("come bench --model " + here + "/src/test/resources/fixtures/llama3-gqa-bf16 --out " + here + "/b --methods come --sparsity 0.1 --ppl " + here
                        + "/README.md " + here + "/pom.xml 'odd name.txt'",
                recorded(new BenchCommand(), "--model", "src/test/resources/fixtures/llama3-gqa-bf16", "--out", "b", "--methods", "come", "--sparsity", "0.1",
                        "--ppl", "README.md", "pom.xml", "odd name.txt"));
    }
}
