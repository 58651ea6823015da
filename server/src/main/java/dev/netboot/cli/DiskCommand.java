package dev.netboot.cli;

import dev.netboot.net.MacAddress;
import dev.netboot.aoe.TargetAddress;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskEntry;
import dev.netboot.disks.StateFiles;
import dev.netboot.storage.CowBlockStore;
import dev.netboot.storage.FileBlockStore;
import dev.netboot.storage.Flattener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "disk", mixinStandardHelpOptions = true,
        description = {"Manage the disks exported over ATA over Ethernet.",
                "A running 'netboot serve' picks up changes within aoe.catalogPollMillis."},
        subcommands = {DiskCommand.Create.class, DiskCommand.Export.class, DiskCommand.ListDisks.class, DiskCommand.Remove.class,
                DiskCommand.Flatten.class})
final class DiskCommand implements Runnable {

    @Override
    public void run() {
        System.out.println("Try 'netboot disk create 1.0 --size 8G --allow 52:54:00:12:34:56' or 'netboot disk list'.");
    }

    /** Options shared by create and export. */
    static final class Access {
        @Option(names = "--allow", paramLabel = "MAC", split = ",",
                description = "MAC address that may see and use the disk (repeatable or comma-separated)")
        List<String> allow = new ArrayList<>();

        @Option(names = "--open", description = "Let every MAC on the network use the disk (labs only)")
        boolean open;

        @Option(names = "--read-only", description = "Refuse writes")
        boolean readOnly;

        @Option(names = "--interface", paramLabel = "IFNAME", split = ",",
                description = {"Offer the disk only on this AoE interface, e.g. eth1 or the VLAN interface eth0.20 (repeatable or "
                        + "comma-separated; default: every one in aoe.interfaces). Frames for it on any other get no answer: "
                        + "a PC on another segment cannot reach it, whatever MAC it sends with."})
        List<String> interfaces = new ArrayList<>();

        DiskEntry entry(TargetAddress a, Path path, NetbootConfig config) {
            DiskEntry e = new DiskEntry(a.toString(), path.toString(), macs(), open, readOnly, interfaces);
            List<String> served = config.aoe().interfaces();
            for (String i : e.interfaces()) {
                // A server with another config may serve it; warn rather than refuse.
                if (!served.isEmpty() && !served.contains(i))
                    System.err.println("netboot: warning: " + i + " is not one of aoe.interfaces " + served + "; e" + a + " is not offered there");
            }
            return e;
        }

        List<String> macs() {
            return allow.stream().map(m -> MacAddress.parse(m).toString()).toList();
        }
    }

    abstract static class Base implements Callable<Integer> {
        @Mixin
        ConfigOptions configOptions;

        Path dataDir() throws ConfigLoader.ConfigException {
            return Path.of(config().dataDir());
        }

        NetbootConfig config() throws ConfigLoader.ConfigException {
            return configOptions.load();
        }

        @Override
        public Integer call() {
            try {
                return run();
            } catch (ConfigLoader.ConfigException | IOException | IllegalArgumentException e) {
                System.err.println("netboot: " + e.getMessage());
                return 2;
            }
        }

        abstract int run() throws ConfigLoader.ConfigException, IOException;
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a sparse disk image and export it.")
    static final class Create extends Base {
        @Parameters(index = "0", paramLabel = "SHELF.SLOT", description = "AoE address, e.g. 1.0 (the client sees /dev/etherd/e1.0)")
        String address;

        @Option(names = "--size", required = true, paramLabel = "SIZE", description = "Size: bytes or with K, M, G, T (powers of 1024)")
        String size;

        @Option(names = "--path", paramLabel = "FILE", description = "Image file (default <dataDir>/disks/eSHELF.SLOT.img)")
        Path path;

        @Mixin
        Access access;

        @Override
        int run() throws ConfigLoader.ConfigException, IOException {
            Path dataDir = dataDir();
            TargetAddress a = TargetAddress.parse(address);
            DiskCatalog catalog = new DiskCatalog(dataDir);
            if (catalog.find(a).isPresent()) throw new IllegalArgumentException("disk e" + a + " exists already (netboot disk remove " + a + ")");
            Path image = (path != null ? path : DiskCatalog.defaultImage(dataDir, a)).toAbsolutePath();
            if (Files.exists(image)) throw new IllegalArgumentException(image + " exists already; use 'netboot disk export' to export it");
            long bytes = parseSize(size);
            FileBlockStore.createSparse(image, bytes).close();
            catalog.add(access.entry(a, image, config()));
            System.out.printf("created e%s: %s, %s%n", a, image, human(bytes));
            return 0;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Export an existing image file or block device (e.g. an LVM logical volume).")
    static final class Export extends Base {
        @Parameters(index = "0", paramLabel = "SHELF.SLOT")
        String address;

        @Parameters(index = "1", paramLabel = "PATH", description = "Image file or block device")
        Path path;

        @Option(names = "--replace", description = "Replace the definition of an exported disk (e.g. to change its MACs or interfaces)")
        boolean replace;

        @Mixin
        Access access;

        @Override
        int run() throws ConfigLoader.ConfigException, IOException {
            TargetAddress a = TargetAddress.parse(address);
            Path p = path.toAbsolutePath();
            long bytes;
            try (FileBlockStore s = FileBlockStore.open(p, true, false)) {
                bytes = s.size();
            }
            DiskCatalog catalog = new DiskCatalog(dataDir());
            DiskEntry entry = access.entry(a, p, config());
            if (replace) catalog.replace(entry);
            else catalog.add(entry);
            System.out.printf("exported e%s: %s, %s%n", a, p, human(bytes));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the exported disks.")
    static final class ListDisks extends Base {
        @Override
        int run() throws ConfigLoader.ConfigException, IOException {
            List<DiskEntry> entries = new DiskCatalog(dataDir()).list();
            if (entries.isEmpty()) {
                System.out.println("no disks; create one with 'netboot disk create 1.0 --size 8G --allow MAC'");
                return 0;
            }
            System.out.printf("%-8s %10s %-6s %-6s %-40s %-18s %s%n", "DISK", "SIZE", "MODE", "KIND", "PATH", "INTERFACES", "ALLOWED");
            for (DiskEntry e : entries) {
                String size;
                try (FileBlockStore s = FileBlockStore.open(Path.of(e.path()), true, false)) {
                    size = human(s.size());
                } catch (IOException ex) {
                    size = "missing";
                }
                String allowed = e.open() ? "everyone" : e.allowedMacs().isEmpty() ? "nobody" : String.join(",", e.allowedMacs());
                // A clone reads what its client never wrote from an image: 'netboot disk flatten' makes it plain.
                String kind = CowBlockStore.isClone(Path.of(e.path())) ? "clone" : "plain";
                String on = e.interfaces().isEmpty() ? "all" : String.join(",", e.interfaces());
                System.out.printf("e%-7s %10s %-6s %-6s %-40s %-18s %s%n", e.address(), size, e.readOnly() ? "ro" : "rw", kind, e.path(), on, allowed);
            }
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Stop exporting a disk.")
    static final class Remove extends Base {
        @Parameters(index = "0", paramLabel = "SHELF.SLOT")
        String address;

        @Option(names = "--delete-image", description = "Also delete the image file (never a block device)")
        boolean deleteImage;

        @Override
        int run() throws ConfigLoader.ConfigException, IOException {
            Path dataDir = dataDir();
            TargetAddress a = TargetAddress.parse(address);
            DiskCatalog catalog = new DiskCatalog(dataDir);
            var entry = catalog.find(a);
            if (entry.isEmpty() || !catalog.remove(a)) throw new IllegalArgumentException("no disk e" + a);
            new StateFiles(dataDir).delete(a);
            Path image = Path.of(entry.get().path());
            if (deleteImage && Files.isRegularFile(image)) {
                if (CowBlockStore.isClone(image)) CowBlockStore.delete(image); // with its sidecar
                else Files.delete(image);
                System.out.printf("removed e%s and deleted %s%n", a, image);
            } else {
                System.out.printf("removed e%s (%s kept)%n", a, image);
            }
            return 0;
        }
    }

    @Command(name = "flatten", mixinStandardHelpOptions = true,
            description = {"Turn a clone into a standalone disk: copy into it everything it still reads from its base.",
                    "Safe to interrupt and run again. A clone exported by a running server is in use: remove it first."})
    static final class Flatten extends Base {
        @Parameters(index = "0", paramLabel = "SHELF.SLOT")
        String address;

        @Override
        int run() throws ConfigLoader.ConfigException, IOException {
            TargetAddress a = TargetAddress.parse(address);
            DiskEntry entry = new DiskCatalog(dataDir()).find(a).orElseThrow(() -> new IllegalArgumentException("no disk e" + a));
            Path image = Path.of(entry.path());
            if (!CowBlockStore.isClone(image)) throw new IllegalArgumentException("e" + a + " (" + image + ") is not a clone; nothing to flatten");
            Flattener.flatten(image, ProgressBar.onStderr());
            System.out.printf("flattened e%s: %s no longer needs its base%n", a, image);
            return 0;
        }
    }


    static long parseSize(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
        long mult = 1;
        if (!t.isEmpty() && "KMGT".indexOf(t.charAt(t.length() - 1)) >= 0) {
            mult = 1L << (10 * ("KMGT".indexOf(t.charAt(t.length() - 1)) + 1));
            t = t.substring(0, t.length() - 1);
        }
        long n;
        try {
            n = Long.parseLong(t.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (e.g. 8G, 512M)");
        }
        long bytes = Math.multiplyExact(n, mult);
        if (bytes <= 0 || bytes % 512 != 0) throw new IllegalArgumentException("size must be a positive multiple of 512 bytes: " + text);
        return bytes;
    }

    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? String.format(Locale.ROOT, "%d", (long) v) : String.format(Locale.ROOT, "%.1f", v)) + " " + units[u];
    }
}
