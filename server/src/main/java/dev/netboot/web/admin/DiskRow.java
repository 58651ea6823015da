package dev.netboot.web.admin;

/**
 * One AoE export of the disk catalog on the disks page.
 *
 * @param allocated  bytes the backing file really takes on disk (clones are sparse)
 * @param interfaces the AoE interfaces it is offered on ("every interface" when not bound)
 * @param exported  "yes", "no" or why it cannot be known (AoE off in this server)
 * @param client    the client whose disk it is, if an assignment names it
 */
public record DiskRow(String address, String path, String size, String allocated, String allowedMacs, String interfaces, boolean open,
                      boolean readOnly, String exported, String client, String replication) {}
