package dev.netboot.posix;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** umask(2), which the JDK does not offer. */
public final class Umask {

    private static final MethodHandle UMASK = Libc.function("umask", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private Umask() {}

    /** Sets the process's file mode creation mask; returns the previous one. umask(2) cannot fail. */
    public static int set(int mask) {
        try {
            return (int) UMASK.invokeExact(Libc.threadCapture(), mask);
        } catch (Throwable t) {
            throw new IllegalStateException("umask(" + Integer.toOctalString(mask) + ") failed", t);
        }
    }
}
