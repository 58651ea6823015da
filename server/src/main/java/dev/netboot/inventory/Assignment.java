package dev.netboot.inventory;

/**
 * A client's assigned image and the AoE address of its disk.
 *
 * @param imagePath where the image's files live (its root filesystem tree or disk file)
 */
public record Assignment(String mac, String imageName, String imagePath, int shelf, int slot) {

    /** "shelf.slot", as the Linux aoe driver names the device: /dev/etherd/e{shelf}.{slot}. */
    public String aoeAddress() { return shelf + "." + slot; }
}
