package dev.netboot.storage;

/**
 * Where an {@link LvmStore} keeps its volumes: a volume group and a thin pool in it, both made by the
 * operator beforehand (see docs/storage.md). Both names are checked against LVM's rules here.
 */
public record LvmSettings(String volumeGroup, String thinPool) {

    public LvmSettings {
        LvmNames.checkVolumeGroup(volumeGroup);
        LvmNames.checkVolume(thinPool);
    }
}
