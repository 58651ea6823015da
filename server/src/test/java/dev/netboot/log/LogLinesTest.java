package dev.netboot.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** A value from the network never starts a second log line, whichever logger writes it. */
class LogLinesTest {

    @Test
    void controlCharactersBecomeVisibleEscapes() {
        assertThat(LogText.escape("a\nb\rc\td\u0000e\u001bf\u007fg\u2028h")).isEqualTo("a\\nb\\rc\\td\\u0000e\\u001bf\\u007fg\\u2028h");
        assertThat(LogText.escape("boot\\x64\\wdsnbp.com")).isEqualTo("boot\\x64\\wdsnbp.com");
        assertThat(LogText.escape("plain")).isSameAs("plain");
    }

    /** The appliance's own logback.xml, writing into memory. */
    @Test
    void aForgedAuditLineInARequestPathStaysOnTheRequestsLine() throws Exception {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(LogLinesTest.class.getResource("/logback.xml"));
        @SuppressWarnings("unchecked")
        OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent> configured =
                (OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent>) context.getLogger("ROOT").getAppender("STDERR");
        // The configured encoder (its pattern), into memory instead of stderr.
        OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender = new OutputStreamAppender<>();
        appender.setContext(context);
        appender.setEncoder(configured.getEncoder());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        appender.setOutputStream(out);
        appender.start();

        // What GET /boot/x%0a12:00:00.000%20INFO%20%20AdminActions:%20web%20admin... decodes to.
        String path = "x\n12:00:00.000 INFO  AdminActions: web admin (admin from 10.0.0.1): client 52:54:00:00:00:01 removed";
        var logger = context.getLogger("dev.netboot.web.BootFileRoutes");
        appender.doAppend(new LoggingEvent(ch.qos.logback.classic.Logger.class.getName(), logger, Level.WARN,
                "HTTP: no '{}' for {}: {}", null, new Object[] {path, "/10.0.0.9:4000", "not found"}));
        context.stop();

        String written = out.toString(StandardCharsets.UTF_8);
        assertThat(written.lines()).hasSize(1);
        assertThat(written).contains("HTTP: no 'x\\n12:00:00.000 INFO  AdminActions: web admin");
    }
}
