package dev.netboot.files;

/** What a {@link FileProvider} answers: the file, or why there is none. Reasons go to the log and to the client. */
public sealed interface Lookup {

    /** @param name the path the content was found under (normalized), for logs */
    record Found(ServedFile file, String name) implements Lookup {}

    record NotFound(String reason) implements Lookup {}

    /** The request tried to leave the served root or names something that is never served. */
    record Refused(String reason) implements Lookup {}
}
