package dev.netboot.log;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * Logback's {@code %msg}, escaped ({@link LogText}): every value any logger puts in a message stays on
 * its one line, whichever class logged it. Stack traces are printed by {@code %ex}, unchanged.
 */
public final class EscapedMessageConverter extends ClassicConverter {
    @Override
    public String convert(ILoggingEvent event) {
        return LogText.escape(event.getFormattedMessage());
    }
}
