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
        subcommands = {ClientCommand.ListClients.class, ClientCommand.Add.class, ClientCommand.Remove.class, ClientCommand.Set.class})
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
            System.out.printf("%-17s  %-10s  %-20s  %-10s  %-20s  %s%n", "MAC", "STATE", "HOSTNAME", "ARCH", "LAST SEEN", "BOOT FILE");
            for (Client c : clients) {
                System.out.printf("%-17s  %-10s  %-20s  %-10s  %-20s  %s%n", c.mac(), c.state(), dash(c.hostname()), dash(c.architecture()),
                        c.lastSeen() == null ? "-" : c.lastSeen().toString().replaceFirst("\\.\\d+Z$", "Z"), dash(c.bootFile()));
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

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove a client (and its assignment).")
    static final class Remove extends InventoryAction {
        @Parameters(paramLabel = "MAC") String mac;

        @Override
        int run(Inventory inventory) {
            if (!inventory.removeClient(mac)) {
                System.err.println("netboot: no client " + Inventory.normalizeMac(mac));
                return 1;
            }
            System.out.println("removed " + Inventory.normalizeMac(mac));
            return 0;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Set fields of a client: hostname=NAME, boot-file=FILE (empty: back to the rules), state=active|disabled|discovered.")
    static final class Set extends InventoryAction {
        @Parameters(index = "0", paramLabel = "MAC") String mac;
        @Parameters(index = "1..*", paramLabel = "FIELD=VALUE", arity = "1..*") List<String> assignments;

        @Override
        int run(Inventory inventory) {
            for (String a : assignments) {
                int eq = a.indexOf('=');
                if (eq <= 0) throw new IllegalArgumentException("expected FIELD=VALUE, got '" + a + "'");
                if (!inventory.setClient(mac, a.substring(0, eq), a.substring(eq + 1))) {
                    System.err.println("netboot: no client " + Inventory.normalizeMac(mac) + " (add it with 'netboot client add')");
                    return 1;
                }
            }
            System.out.println("updated " + Inventory.normalizeMac(mac));
            return 0;
        }
    }

    private static String dash(String s) { return s == null || s.isEmpty() ? "-" : s; }
}
