package dev.netboot.storage;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A disk that shares an image's data until it writes over it (a copy-on-write file clone, an LVM thin snapshot):
 * a resync that says "the image's data here" is carried out against the image this side holds, not by sending it.
 */
public interface ImageBacked extends BlockStore {

    /** Whether any byte of the range may differ from the image's (false: all of it reads as the image's). */
    boolean ownsAny(long offset, int length) throws IOException;

    /** The image's bytes of the range, whatever the disk wrote over them. */
    void readBase(long offset, ByteBuffer dst) throws IOException;
}
