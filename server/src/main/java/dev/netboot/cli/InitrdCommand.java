package dev.netboot.cli;

import dev.netboot.boot.initrd.FileList;
import dev.netboot.boot.initrd.Initrd;
import dev.netboot.boot.initrd.InitrdBuilder;
import dev.netboot.templates.TemplateException;
import dev.netboot.templates.Templates;
import dev.netboot.app.Services;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.InventoryException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;

/** Builds an image's initrd as the server would, into a file: to inspect it, or to try an edited template. */
@Command(name = "initrd", mixinStandardHelpOptions = true,
        description = "Build the initrd of an image (from initrd-templates/) into a file.")
final class InitrdCommand implements Callable<Integer> {

    @Mixin ConfigOptions configOptions;
    @Parameters(paramLabel = "IMAGE", description = "An image's name in the inventory, or the path of a root filesystem tree")
    String image;
    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE") Path output;

    @Override
    public Integer call() throws ConfigLoader.ConfigException {
        NetbootConfig config = configOptions.load();
        try {
            Path root;
            String name;
            Services services = new Services(config, java.time.Clock.systemUTC());
            if (Files.isDirectory(Path.of(image))) {
                root = Path.of(image);
                name = root.getFileName().toString();
            } else {
                Optional<String> path;
                try (services) {
                    path = services.inventory().imagePath(image);
                }
                if (path.isEmpty()) {
                    System.err.println("netboot: no image '" + image + "' in the inventory, and no such directory");
                    return 1;
                }
                root = Path.of(path.get());
                name = image;
            }
            Initrd initrd = services.initrds().build(name, root);
            Files.write(output, initrd.bytes());
            System.out.println(output + ": " + initrd.bytes().length + " bytes, hash " + initrd.hash());
            return 0;
        } catch (IOException | TemplateException | FileList.BadFileListException | InventoryException e) {
            System.err.println("netboot: " + e.getMessage());
            return 1;
        }
    }
}
