package come4j.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The JVM prints "WARNING: Using incubator modules: jdk.incubator.vector" on stderr before main, and no option turns
 * it off. The `come` launcher therefore starts the JVM with stderr through a filter that drops that line, and passes
 * the real stderr as another descriptor (-Dcome.stderr.fd); this puts it back on descriptor 2, so that what the
 * program prints reaches stderr directly: a terminal stays a terminal, and nothing arrives after the exit.
 */
final class LauncherStderr {
    private LauncherStderr() {}

    static void restore() {
        String fd = System.getProperty("come.stderr.fd");
        if (fd == null) return;
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle dup2 = linker.downcallHandle(linker.defaultLookup().find("dup2").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            MethodHandle close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            int saved = Integer.parseInt(fd);
            System.err.flush();
            if ((int) dup2.invokeExact(saved, 2) == 2) {
                int _ = (int) close.invokeExact(saved); // the filter then reads to its end and exits
            }
        } catch (Throwable e) {
            // stderr stays on the filter, which passes every other line: nothing is lost
        }
    }
}
