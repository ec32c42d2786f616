package io.mcpoauth.admin;

import java.util.List;

/** A subcommand of {@code java -jar mcp-oauth-server.jar}. Exit codes: 0 success, 1 failure, 2 usage or configuration error. */
public interface Command {
    String name();

    /** One line for --help, e.g. "users add NAME [--password-stdin]". */
    List<String> usage();

    int run(List<String> args, Cli cli) throws Exception;
}
