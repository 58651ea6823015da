package dev.netboot.aoe;

import dev.netboot.storage.BlockStore;

/** How the effect runner finds a target's store and persists its protocol state. */
public interface StorageDirectory {

    /** The store of a target, or null when the target was removed meanwhile. */
    BlockStore store(TargetAddress target);

    void saveState(TargetAddress target, TargetState state);

    /** Replication of client writes, or null when this server does not replicate. */
    default WriteReplication replication() { return null; }
}
