package dev.netboot.testlib;

/**
 * A command could not be started, exited non-zero where success was required, or ran past its timeout.
 * The message always carries the command line and whatever output it produced, because that is usually
 * all a CI log offers to debug a failed lab setup.
 */
public final class CommandException extends RuntimeException {

    CommandException(String message) {
        super(message);
    }

    CommandException(String message, Throwable cause) {
        super(message, cause);
    }
}
