// Trace writes ordinary log lines and JVM stack traces to stderr, the way a
// Java service in a container does: a logged exception with "Caused by:",
// "Suppressed:" and "... N more", then an uncaught exception that ends the
// program. It is the generator of the java testdata; run it with
// `java Trace.java 2>&1` (Java 11+ runs a single source file).
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

public class Trace {
    static int ms;

    static void log(String level, String msg) {
        System.err.printf("2024-05-01 12:00:00.%03d %-5s [main] com.example.orders.OrderService - %s%n",
                ++ms, level, msg);
    }

    static int parse(String s) {
        return Integer.parseInt(s);
    }

    static void load(String id) {
        try {
            parse(id);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad order id " + id, e);
        }
    }

    static void handle(String id) {
        try {
            load(id);
        } catch (IllegalArgumentException e) {
            IllegalStateException ex = new IllegalStateException("request failed", e);
            ex.addSuppressed(new IOException("close failed"));
            throw ex;
        }
    }

    static void fetch(List<String> ids) {
        for (String id : ids) {
            if (id.isEmpty()) {
                throw new UncheckedIOException("fetch failed", new IOException("connection reset"));
            }
        }
    }

    public static void main(String[] args) {
        String mode = args.length > 0 ? args[0] : "logged";
        System.err.println("INFO starting mode=" + mode);
        switch (mode) {
            case "logged":
                try {
                    handle("x42");
                } catch (RuntimeException e) {
                    log("ERROR", "order x42 failed");
                    e.printStackTrace();
                }
                System.err.println("INFO next request");
                try {
                    Object o = null;
                    o.toString();
                } catch (NullPointerException e) {
                    log("WARN", "retrying");
                    e.printStackTrace();
                }
                System.err.println("INFO done");
                break;
            case "uncaught":
                System.err.println("INFO fetching");
                fetch(List.of("a", ""));
                break;
            case "threaddump":
                // The JVM writes the SIGQUIT thread dump to stdout.
                System.out.println("INFO dumping threads");
                System.out.flush();
                try {
                    new ProcessBuilder("kill", "-3", Long.toString(ProcessHandle.current().pid())).start().waitFor();
                    Thread.sleep(1000);
                } catch (IOException | InterruptedException e) {
                    throw new RuntimeException(e);
                }
                System.out.println("INFO done");
                break;
            default:
                throw new IllegalArgumentException(mode);
        }
    }
}
