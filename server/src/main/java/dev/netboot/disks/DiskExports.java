package dev.netboot.disks;

import dev.netboot.aoe.TargetAddress;

/**
 * Where a change of the exported disks goes besides the catalog file. Inside the server it goes straight
 * to the AoE exporter ({@link CatalogExporter}); a command-line process has none, and the server learns of
 * its change from the catalog file at its next poll.
 */
public interface DiskExports {

    /** Another process: the catalog file is the message. */
    DiskExports VIA_CATALOG_FILE = new DiskExports() {
        @Override public void export(DiskEntry entry) {}
        @Override public void withdraw(TargetAddress address) {}
    };

    /** Export (or re-export, with a new allow-list) this disk now. */
    void export(DiskEntry entry);

    /** Stop serving this address now. */
    void withdraw(TargetAddress address);
}
