package dev.netboot.images;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A root filesystem tree on this host. Its symlinks mean paths inside the tree: Debian's merged /usr
 * has {@code lib -> usr/lib}, and an absolute link {@code /lib/modules -> /usr/lib/modules} must not
 * lead to the server's own /usr. So paths are resolved one component at a time, links against the tree.
 */
final class RootTree {

    private static final int MAX_LINKS = 40;

    private final Path root;

    RootTree(Path root) { this.root = root.toAbsolutePath().normalize(); }

    Path root() { return root; }

    /** The real location of {@code relative} ("lib/modules") inside the tree, links followed within it. */
    Path resolve(String relative) throws IOException {
        Deque<String> todo = new ArrayDeque<>();
        for (String part : relative.split("/")) if (!part.isEmpty()) todo.addLast(part);
        Path current = root;
        int links = 0;
        while (!todo.isEmpty()) {
            String part = todo.removeFirst();
            if (part.equals(".")) continue;
            if (part.equals("..")) {
                if (!current.equals(root)) current = current.getParent();
                continue;
            }
            Path next = current.resolve(part);
            if (Files.isSymbolicLink(next)) {
                if (++links > MAX_LINKS) throw new IOException("too many symbolic links resolving " + relative + " in " + root);
                String target = Files.readSymbolicLink(next).toString();
                Deque<String> expanded = new ArrayDeque<>();
                for (String p : target.split("/")) if (!p.isEmpty()) expanded.addLast(p);
                while (!todo.isEmpty()) expanded.addLast(todo.removeFirst());
                todo = expanded;
                if (target.startsWith("/")) current = root;
                continue;
            }
            current = next;
        }
        return current;
    }

    boolean isDirectory(String relative) throws IOException {
        return Files.isDirectory(resolve(relative), LinkOption.NOFOLLOW_LINKS);
    }
}
