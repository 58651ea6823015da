// Makes a copy-on-write clone of a disk image with the netboot jar on the class path, for aoe.sh
// (DISK=clone): java -cp netboot.jar bench/MakeClone.java BASE OVERLAY
import dev.netboot.storage.CowBlockStore;

import java.nio.file.Path;

class MakeClone {
    public static void main(String[] args) throws Exception {
        CowBlockStore.create(Path.of(args[0]), Path.of(args[1])).close();
    }
}
