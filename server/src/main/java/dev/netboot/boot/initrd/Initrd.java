package dev.netboot.boot.initrd;

/**
 * A built initrd: gzip'd cpio (newc).
 *
 * @param hash  SHA-256 of everything it was built from (rendered templates, module and file sources):
 *              the cache key, and a version an operator can compare
 * @param bytes the gzip'd archive
 */
public record Initrd(String image, String hash, byte[] bytes) {}
