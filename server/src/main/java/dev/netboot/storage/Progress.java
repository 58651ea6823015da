package dev.netboot.storage;

/** Long work reports here: a phase a person recognises, and how far it got (total 0 = unknown). */
@FunctionalInterface
public interface Progress {

    void update(String phase, long done, long total);

    Progress NONE = (phase, done, total) -> {};
}
