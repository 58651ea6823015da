package dev.netboot.cli;

import dev.netboot.app.Services;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.images.ImageLibrary;
import dev.netboot.inventory.Image;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.InventoryException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

@Command(name = "image", mixinStandardHelpOptions = true,
        description = {"Manage images: bootable root filesystems with their kernel, cloned into each client's disk.",
                "Build a demo image with images/demo/build.sh, then 'netboot image import demo <folder>'."},
        subcommands = {ImageCommand.Import.class, ImageCommand.ListImages.class, ImageCommand.Show.class, ImageCommand.Remove.class,
                ImageCommand.Capture.class})
final class ImageCommand implements Runnable {

    @Override
    public void run() {
        System.out.println("Try 'netboot image import NAME SOURCE', 'netboot image list', 'show NAME' or 'remove NAME'.");
    }

    abstract static class LibraryAction implements Callable<Integer> {
        @Mixin
        ConfigOptions configOptions;

        Services services;

        abstract int run(ImageLibrary library) throws IOException;

        @Override
        public Integer call() {
            try {
                try (Services s = new Services(configOptions.load(), Clock.systemUTC())) {
                    services = s;
                    return run(s.images());
                }
            } catch (ConfigLoader.ConfigException e) {
                System.err.println("netboot: " + e.getMessage());
                return 2;
            } catch (IOException | IllegalArgumentException | IllegalStateException | InventoryException e) {
                System.err.println("netboot: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = {"Import a root filesystem: a folder (debootstrap's output), a tarball (.tar, .tar.gz, .tar.xz, .tar.zst)",
                    "or a raw disk image with an ext2/3/4 root (bare, or in any MBR or GPT partition; /boot may be its own partition).",
                    "It needs a kernel: boot/vmlinuz-VERSION and lib/modules/VERSION/modules.dep."})
    static final class Import extends LibraryAction {
        @Parameters(index = "0", paramLabel = "NAME", description = "Image name, e.g. debian12")
        String name;

        @Parameters(index = "1", paramLabel = "SOURCE", description = "Folder, tarball or disk image")
        Path source;

        @Option(names = "--size", paramLabel = "SIZE", description = "Disk size for a folder or tarball (default: the content plus a quarter and 64 MiB)")
        String size;

        @Option(names = "--description", paramLabel = "TEXT")
        String description = "";

        @Override
        int run(ImageLibrary library) throws IOException {
            OptionalLong bytes = size == null ? OptionalLong.empty() : OptionalLong.of(DiskCommand.parseSize(size));
            Image image = library.importImage(name, source, bytes, description, ProgressBar.onStderr());
            System.out.printf("imported %s: kernel %s, disk %s (%s)%n", image.name(), image.kernelVersion(), image.diskPath(),
                    DiskCommand.human(image.sizeBytes()));
            return 0;
        }
    }

    @Command(name = "capture", mixinStandardHelpOptions = true,
            description = {"Turn a client's disk into an image other clients can be cloned from (e.g. after an install).",
                    "The client must be off: a disk written within the last minute is refused. The disk is off the network during the copy."})
    static final class Capture extends LibraryAction {
        @Parameters(index = "0", paramLabel = "MAC") String mac;
        @Parameters(index = "1", paramLabel = "NAME", description = "The new image's name") String name;

        @Override
        int run(ImageLibrary library) throws IOException {
            Image image = services.capture().capture(mac, name, ProgressBar.onStderr());
            System.out.printf("image %s captured from client %s: kernel %s, disk %s (%s)%n", image.name(), Inventory.normalizeMac(mac),
                    image.kernelVersion(), image.diskPath(), DiskCommand.human(image.sizeBytes()));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the images.")
    static final class ListImages extends LibraryAction {
        @Override
        int run(ImageLibrary library) {
            List<Image> images = library.list();
            System.out.printf("%-20s  %-24s  %10s  %-20s  %s%n", "NAME", "KERNEL", "SIZE", "IMPORTED", "DESCRIPTION");
            for (Image i : images) {
                System.out.printf("%-20s  %-24s  %10s  %-20s  %s%n", i.name(), dash(i.kernelVersion()), DiskCommand.human(i.sizeBytes()),
                        i.created().toString().replaceFirst("\\.\\d+Z$", "Z"), i.description());
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one image.")
    static final class Show extends LibraryAction {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        int run(ImageLibrary library) {
            Image i = library.find(name).orElseThrow(() -> new IllegalArgumentException("no image " + name + " (netboot image list)"));
            System.out.printf("name:        %s%nkernel:      %s%ndisk:        %s%nsize:        %s%nfolder:      %s%nsource:      %s%n"
                            + "imported:    %s%ndescription: %s%n", i.name(), dash(i.kernelVersion()), dash(i.diskPath()),
                    DiskCommand.human(i.sizeBytes()), i.path(), dash(i.source()), i.created(), i.description());
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove an image and its files; refused while client disks are cloned from it.")
    static final class Remove extends LibraryAction {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        int run(ImageLibrary library) throws IOException {
            var image = library.find(name);
            if (image.isEmpty() || !library.remove(name)) {
                System.err.println("netboot: no image " + name);
                return 1;
            }
            services.cloner().imageRemoved(image.get());
            System.out.println("removed image " + name);
            return 0;
        }
    }

    static String dash(String s) { return s == null || s.isEmpty() ? "-" : s; }
}
