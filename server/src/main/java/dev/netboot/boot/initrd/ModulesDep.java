package dev.netboot.boot.initrd;

import dev.netboot.files.ConfinedPath;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An image's {@code lib/modules/VERSION/modules.dep} (written by depmod): each module's path and the
 * modules it needs. Names are normalised the way modprobe does: {@code virtio-net} and
 * {@code virtio_net} are the same module.
 */
public final class ModulesDep {

    /** @param path relative to lib/modules/VERSION, e.g. kernel/drivers/net/virtio_net.ko.xz */
    public record Module(String name, String path, List<String> needs) {}

    private final Map<String, Module> byName;

    private ModulesDep(Map<String, Module> byName) { this.byName = byName; }

    public static ModulesDep read(Path modulesDep) throws IOException {
        return parse(Files.readAllLines(modulesDep), modulesDep.toString());
    }

    public static ModulesDep parse(List<String> lines, String source) throws IOException {
        Map<String, Module> byName = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            int colon = line.indexOf(':');
            if (colon <= 0) throw new IOException(source + " line " + (i + 1) + ": expected 'module.ko: dependencies...', got '" + line + "'");
            String path = line.substring(0, colon).strip();
            // The path is read from the image and packed into an initrd anyone can fetch: it stays inside lib/modules/VERSION.
            if (ConfinedPath.of(path, false) instanceof ConfinedPath.Outside o) {
                throw new IOException(source + " line " + (i + 1) + ": module path refused: " + o.reason());
            }
            List<String> needs = new ArrayList<>();
            for (String dep : line.substring(colon + 1).strip().split("\\s+")) if (!dep.isEmpty()) needs.add(nameOf(dep));
            byName.put(nameOf(path), new Module(nameOf(path), path, List.copyOf(needs)));
        }
        return new ModulesDep(byName);
    }

    /** kernel/drivers/net/virtio_net.ko.xz → virtio_net */
    public static String nameOf(String path) {
        String file = path.substring(path.lastIndexOf('/') + 1);
        int ko = file.indexOf(".ko");
        return (ko > 0 ? file.substring(0, ko) : file).replace('-', '_');
    }

    public boolean has(String name) { return byName.containsKey(name.replace('-', '_')); }

    /**
     * The modules to load for {@code names}, dependencies first, each once.
     * @throws IOException naming the module no path leads to (and who needed it)
     */
    public List<Module> resolve(List<String> names) throws IOException {
        Set<String> done = new LinkedHashSet<>();
        List<Module> order = new ArrayList<>();
        for (String name : names) visit(name.replace('-', '_'), "requested", done, new HashSet<>(), order);
        return List.copyOf(order);
    }

    private void visit(String name, String neededBy, Set<String> done, Set<String> path, List<Module> order) throws IOException {
        if (done.contains(name)) return;
        Module m = byName.get(name);
        if (m == null) throw new IOException("module " + name + " (" + neededBy + ") is not in modules.dep");
        if (!path.add(name)) throw new IOException("modules.dep has a dependency cycle through " + name);
        for (String dep : m.needs()) visit(dep, "needed by " + name, done, path, order);
        path.remove(name);
        done.add(name);
        order.add(m);
    }
}
