package dev.netboot.cli;

import dev.netboot.inventory.LeaseRecord;
import dev.netboot.inventory.Inventory;
import picocli.CommandLine.Command;

@Command(name = "lease", mixinStandardHelpOptions = true, description = "Read the DHCP leases in the inventory.",
        subcommands = {LeaseCommand.ListLeases.class})
final class LeaseCommand implements Runnable {

    @Override
    public void run() {
        System.out.println("Try 'netboot lease list'.");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List every lease: bound, free (remembered for its client) and declined.")
    static final class ListLeases extends ClientCommand.InventoryAction {
        @Override
        int run(Inventory inventory) {
            System.out.printf("%-15s  %-17s  %-8s  %-20s  %s%n", "ADDRESS", "MAC", "STATE", "EXPIRES", "HOSTNAME");
            for (LeaseRecord l : inventory.leases()) {
                System.out.printf("%-15s  %-17s  %-8s  %-20s  %s%n", l.address(), l.mac(), l.state().toLowerCase(java.util.Locale.ROOT),
                        l.expires().toString().replaceFirst("\\.\\d+Z$", "Z"), l.hostname().isEmpty() ? "-" : l.hostname());
            }
            return 0;
        }
    }
}
