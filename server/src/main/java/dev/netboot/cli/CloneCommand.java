package dev.netboot.cli;

import dev.netboot.disks.ClientDisks;
import dev.netboot.inventory.Assignment;
import dev.netboot.inventory.Inventory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;

@Command(name = "clone", mixinStandardHelpOptions = true,
        description = {"Give a client its own disk: an instant copy-on-write clone of IMAGE, exported over AoE to that MAC only.",
                "The client (registered if new) boots the image at its next power-on."})
final class CloneCommand extends ClientDisksAction {

    @Parameters(index = "0", paramLabel = "IMAGE")
    String image;

    @Option(names = "--to", required = true, paramLabel = "MAC", description = "The client's boot NIC")
    String mac;

    @Option(names = "--replace", description = "Replace the client's disk from another image (what it wrote is lost)")
    boolean replace;

    @Override
    int run(ClientDisks disks, Inventory inventory) throws IOException {
        print(disks.assign(mac, image, replace), inventory);
        return 0;
    }

    static void print(Assignment a, Inventory inventory) {
        var disk = inventory.diskOf(a.mac()).orElseThrow();
        System.out.printf("client %s: image %s, disk %s (%s) at AoE e%s, %s%n", a.mac(), a.imageName(), disk.name(), disk.kind(),
                a.aoeAddress(), disk.path());
    }
}
