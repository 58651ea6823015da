package dev.netboot.replication;

/** Which server serves the disks (AoE, boot services) right now. Only one may ever be {@link #PRIMARY}. */
public enum Role { PRIMARY, STANDBY }
