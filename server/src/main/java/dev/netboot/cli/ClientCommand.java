package dev.netboot.cli;

import dev.netboot.config.ConfigLoader;
import dev.netboot.inventory.Client;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.InventoryException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "client", mixinStandardHelpOptions = true,
        description = "Read and change the clients in the inventory (machines that boot from this server).",
        subcommands = {ClientCommand.ListClients.class, ClientCommand.Add.class, ClientCommand.Remove.class, ClientCommand.Set.class,
                ClientCommand.Assign.class, ClientCommand.Unassign.class, ClientCommand.Flatten.class, ClientCommand.Install.class})
final class ClientCommand implements Runnable {

    @Override
    public void run() {
        System.out.println("Try 'netboot client list', 'add', 'remove' or 'set'.");
    }

    /** Runs one inventory action with the errors every subcommand reports the same way. */
    abstract static class InventoryAction implements Callable<Integer> {
        @Mixin
        ConfigOptions configOptions;

        abstract int run(Inventory inventory);

        @Override
        public Integer call() {
            try (Inventory inventory = InventoryOptions.open(configOptions)) {
                return run(inventory);
            } catch (ConfigLoader.ConfigException e) {
                System.err.println("netboot: " + e.getMessage());
                return 2;
            } catch (IllegalArgumentException | InventoryException e) {
                System.err.println("netboot: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List every client, registered by DHCP or added by hand.")
    static final class ListClients extends InventoryAction {
        @Override
        int run(Inventory inventory) {
            List<Client> clients = inventory.clients();
            System.out.printf("%-17s  %-10s  %-20s  %-10s  %-20s  %-16s  %-8s  %s%n", "MAC", "STATE", "HOSTNAME", "ARCH", "LAST SEEN",
                    "IMAGE", "DISK", "BOOT FILE");
            for (Client c : clients) {
                var assignment = inventory.assignment(c.mac());
                System.out.printf("%-17s  %-10s  %-20s  %-10s  %-20s  %-16s  %-8s  %s%n", c.mac(), c.state(), dash(c.hostname()), dash(c.architecture()),
                        c.lastSeen() == null ? "-" : c.lastSeen().toString().replaceFirst("\\.\\d+Z$", "Z"),
                        assignment.map(a -> a.imageName()).orElse("-"), assignment.map(a -> "e" + a.aoeAddress()).orElse("-"), dash(c.bootFile()));
            }
            return 0;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a client by MAC address.")
    static final class Add extends InventoryAction {
        @Parameters(paramLabel = "MAC") String mac;
        @Option(names = "--hostname") String hostname = "";
        @Option(names = "--boot-file", description = "Boot this file instead of what the rules choose (a TFTP path or a URL)") String bootFile = "";

        @Override
        int run(Inventory inventory) {
            if (!inventory.addClient(mac, hostname, bootFile)) {
                System.err.println("netboot: client " + Inventory.normalizeMac(mac) + " exists already (use 'netboot client set')");
                return 1;
            }
            System.out.println("added " + Inventory.normalizeMac(mac));
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove a client, its assignment and its disk.")
    static final class Remove extends ClientDisksAction {
        @Parameters(paramLabel = "MAC") String mac;

        @Override
        int run(dev.netboot.disks.ClientDisks disks, Inventory inventory) throws java.io.IOException {
            boolean hadDisk = disks.unassign(mac);
            if (!inventory.removeClient(mac)) {
                System.err.println("netboot: no client " + Inventory.normalizeMac(mac));
                return 1;
            }
            System.out.println("removed " + Inventory.normalizeMac(mac) + (hadDisk ? " and its disk" : ""));
            return 0;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Set fields of a client: hostname=NAME, boot-file=FILE (empty: back to the rules), loader=auto|ipxe|grub|pxelinux|shim-grub "
                    + "(the loader chain for this PC, stored as boot-file=loader:NAME), state=active|disabled|discovered.")
    static final class Set extends InventoryAction {
        @Parameters(index = "0", paramLabel = "MAC") String mac;
        @Parameters(index = "1..*", paramLabel = "FIELD=VALUE", arity = "1..*") List<String> assignments;

        @Override
        int run(Inventory inventory) {
            for (String a : assignments) {
                int eq = a.indexOf('=');
                if (eq <= 0) throw new IllegalArgumentException("expected FIELD=VALUE, got '" + a + "'");
                String field = a.substring(0, eq), value = a.substring(eq + 1);
                if (field.equals("loader")) {
                    field = "boot-file";
                    value = value.isBlank() ? "" : dev.netboot.boot.LoaderChoice.OVERRIDE_PREFIX + dev.netboot.boot.LoaderChoice.parse(value).settingName();
                } else if (field.equals("boot-file") && value.startsWith(dev.netboot.boot.LoaderChoice.OVERRIDE_PREFIX)) {
                    dev.netboot.boot.LoaderChoice.parse(value.substring(dev.netboot.boot.LoaderChoice.OVERRIDE_PREFIX.length()));
                }
                if (!inventory.setClient(mac, field, value)) {
                    System.err.println("netboot: no client " + Inventory.normalizeMac(mac) + " (add it with 'netboot client add')");
                    return 1;
                }
            }
            System.out.println("updated " + Inventory.normalizeMac(mac));
            return 0;
        }
    }

    @Command(name = "assign", mixinStandardHelpOptions = true,
            description = "Assign an image: the client gets an instant copy-on-write clone of it as its own disk (same as 'netboot clone IMAGE --to MAC').")
    static final class Assign extends ClientDisksAction {
        @Parameters(index = "0", paramLabel = "MAC") String mac;
        @Parameters(index = "1", paramLabel = "IMAGE") String image;
        @Option(names = "--replace", description = "Replace a disk cloned from another image (what the client wrote is lost)") boolean replace;

        @Override
        int run(dev.netboot.disks.ClientDisks disks, Inventory inventory) throws java.io.IOException {
            CloneCommand.print(disks.assign(mac, image, replace), inventory);
            return 0;
        }
    }

    @Command(name = "unassign", mixinStandardHelpOptions = true,
            description = "Take the client's disk away and delete it; the client waits for an image again.")
    static final class Unassign extends ClientDisksAction {
        @Parameters(index = "0", paramLabel = "MAC") String mac;

        @Override
        int run(dev.netboot.disks.ClientDisks disks, Inventory inventory) throws java.io.IOException {
            if (!disks.unassign(mac)) {
                System.err.println("netboot: client " + Inventory.normalizeMac(mac) + " has no disk");
                return 1;
            }
            System.out.println("client " + Inventory.normalizeMac(mac) + ": disk removed");
            return 0;
        }
    }

    @Command(name = "flatten", mixinStandardHelpOptions = true,
            description = {"Make the client's disk standalone: copy in what it still reads from its image.",
                    "A running server stops exporting the disk for the copy and exports it again afterwards."})
    static final class Flatten extends ClientDisksAction {
        @Parameters(index = "0", paramLabel = "MAC") String mac;

        @Override
        int run(dev.netboot.disks.ClientDisks disks, Inventory inventory) throws java.io.IOException {
            disks.flatten(mac, ProgressBar.onStderr());
            System.out.println("client " + Inventory.normalizeMac(mac) + ": disk is standalone");
            return 0;
        }
    }

    @Command(name = "install", mixinStandardHelpOptions = true,
            description = {"The client's next network boot starts an installer (installers/NAME.properties) instead of its system;",
                    "the installer sees the client's own AoE disk as a local disk. Once the installer has fetched its initrd, the",
                    "PC's next boot (the installer's reboot) boots the installed disk. --cancel: boot the system again."})
    static final class Install implements Callable<Integer> {
        @Mixin ConfigOptions configOptions;
        @Parameters(index = "0", paramLabel = "MAC") String mac;
        @Option(names = "--installer", paramLabel = "NAME", description = "Installer to start (netboot installers list)") String installer;
        @Option(names = "--cancel", description = "Leave installer mode: the next boot boots the client's disk") boolean cancel;
        @Option(names = "--size", paramLabel = "SIZE", description = "A client without a disk gets an empty one this large first (e.g. 20G)") String size;

        @Override
        public Integer call() {
            try (dev.netboot.app.Services services = new dev.netboot.app.Services(configOptions.load(), java.time.Clock.systemUTC())) {
                String m = Inventory.normalizeMac(mac);
                if (cancel) {
                    if (!services.clientInstalls().cancel(m)) throw new IllegalArgumentException("no client " + m);
                    System.out.println("client " + m + ": boots its disk again");
                    return 0;
                }
                if (installer == null || installer.isBlank()) throw new IllegalArgumentException("--installer NAME is needed (netboot installers list)");
                java.util.OptionalLong bytes = size == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(DiskCommand.parseSize(size));
                String aoe = services.clientInstalls().install(m, installer, bytes);
                System.out.println("client " + m + ": its next network boot starts installer " + installer + " onto its disk e" + aoe);
                return 0;
            } catch (ConfigLoader.ConfigException e) {
                System.err.println("netboot: " + e.getMessage());
                return 2;
            } catch (java.io.IOException | IllegalArgumentException | IllegalStateException | InventoryException e) {
                System.err.println("netboot: " + e.getMessage());
                return 1;
            }
        }
    }

    private static String dash(String s) { return s == null || s.isEmpty() ? "-" : s; }
}
