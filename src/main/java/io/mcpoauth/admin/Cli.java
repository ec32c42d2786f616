package io.mcpoauth.admin;

import io.mcpoauth.config.Settings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/** What a command can use: its streams and the validated settings (read on first use). */
public final class Cli {
    public final PrintStream out;
    public final PrintStream err;
    private final InputStream in;
    private final Supplier<Settings> settingsSupplier;
    private Settings settings;

    public Cli(PrintStream out, PrintStream err, InputStream in, Supplier<Settings> settings) {
        this.out = out;
        this.err = err;
        this.in = in;
        this.settingsSupplier = settings;
    }

    public Settings settings() {
        if (settings == null) settings = settingsSupplier.get();
        return settings;
    }

    /** One line from standard input without its line ending (for --password-stdin); null at end of input. */
    public String readLine() throws IOException {
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
    }

    /** Reads a password from the console without echo, asking twice; null when there is no console. */
    public char[] readPasswordTwice(String prompt) {
        java.io.Console c = System.console();
        if (c == null) return null;
        char[] a = c.readPassword("%s: ", prompt);
        char[] b = c.readPassword("Again: ");
        if (a == null || b == null || !java.util.Arrays.equals(a, b)) throw new UsageException("The two passwords differ.");
        return a;
    }
}
